--[[
  Trims the outbox (the events stream) to about `maxLen` entries, but never past what the dispatch group has
  not finished: an entry not read yet, or read and not acknowledged, stays however long the stream grows.
  (XADD ... MAXLEN trims blind: a burst larger than maxLen before the dispatcher read it was lost.)
  Bounded work a call: it reads at most TRIM_STEP entries, so it removes at most about that many; the dispatcher
  calls it after every batch, so the outbox still comes down to maxLen. (It once read every entry past maxLen on each
  call: with a backlog of 50,000 events, 0.7 s of Redis per dispatch batch.)

  Input:
    KEYS[1] events stream
    ARGV[1] dispatch group   ARGV[2] entries to keep (maxLen)
  Output:
    entries removed (0 when nothing may go: under maxLen, or no dispatch group yet)
]]
local eventsKey = KEYS[1]
local group, maxLen = ARGV[1], tonumber(ARGV[2])
local TRIM_STEP = 1000

local excess = redis.call('XLEN', eventsKey) - maxLen
if excess <= 0 then
  return 0
end

-- Stream ids "ms-seq" as two numbers, to compare them.
local function parseId(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function before(a, b)
  local am, as = parseId(a)
  local bm, bs = parseId(b)
  return am < bm or (am == bm and as < bs)
end

-- By the group: what it has not finished starts at its oldest pending entry, else after its last delivered one.
local lastDelivered
for _, info in ipairs(redis.call('XINFO', 'GROUPS', eventsKey)) do
  local fields = {}
  for i = 1, #info, 2 do
    fields[info[i]] = info[i + 1]
  end
  if fields['name'] == group then
    lastDelivered = fields['last-delivered-id']
  end
end
if not lastDelivered then
  return 0
end
local pending = redis.call('XPENDING', eventsKey, group)
local unfinishedFrom = lastDelivered
if tonumber(pending[1]) > 0 and before(pending[2], unfinishedFrom) then
  unfinishedFrom = pending[2]
end

-- Nothing finished before the first entry: nothing may go (and nothing is read).
local first = redis.call('XRANGE', eventsKey, '-', '+', 'COUNT', 1)[1]
if not first or not before(first[1], unfinishedFrom) then
  return 0
end

-- By length: everything older than the (n+1)-th oldest entry may go, n at most TRIM_STEP.
local oldest = redis.call('XRANGE', eventsKey, '-', '+', 'COUNT', math.min(excess, TRIM_STEP) + 1)
local keepFrom = oldest[#oldest][1]

local minId = keepFrom
if before(unfinishedFrom, minId) then
  minId = unfinishedFrom
end
return redis.call('XTRIM', eventsKey, 'MINID', '~', minId)

--[[
  Change feeds named runs: make the tracks that watch them due now, by claiming them for a hinted poll.
  Only a track that exists is touched; a run's experiment track is hinted only when none of the run's tracks exists
  (a new run it has not found yet). Rate-limited per track: while a hinted poll is pending (due at or after now) a
  further hint adds nothing, and hinted polls of one track are at least the minimum gap apart.
  The provider is marked pushed for a while (its quiet tracks may then be polled less often).
  Several runs in one call (the router gathers what arrives together): run after run, as separate calls would.

  Input:
    KEYS[1] due zset of the provider   KEYS[2] the provider's pushed marker
    ARGV[1] now (ms)   ARGV[2] debounce (ms)   ARGV[3] minimum gap between hinted polls (ms)
    ARGV[4] lease (ms)   ARGV[5] pushed marker lifetime (ms)   ARGV[6] key prefix of track hashes
    ARGV[7..] per run: its experiment track id ('' = none), the number n of its run track ids, then those n ids
  Output:
    {run number (1-based), track id, poll at (ms), ...} of the hinted polls to enqueue (none when coalesced or nothing tracked)
]]
local dueKey, pushedKey = KEYS[1], KEYS[2]
local now, debounceMs, minGapMs, leaseMs = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local pushedForMs, trackKeyPrefix = ARGV[5], ARGV[6]
local FIRST_RUN = 7

if tonumber(pushedForMs) > 0 then
  redis.call('SET', pushedKey, now, 'PX', pushedForMs)
end

local hinted = {}
local function hint(run, trackId)
  local trackKey = trackKeyPrefix .. trackId
  local pendingAt = tonumber(redis.call('HGET', trackKey, 'hintAt') or '0')
  if pendingAt >= now then
    return
  end
  local pollAt = math.max(now + debounceMs, pendingAt + minGapMs)
  redis.call('HSET', trackKey, 'hintAt', pollAt)
  -- Leased like a claimed track: the tick leaves it to the hinted poll, which reschedules it.
  redis.call('ZADD', dueKey, 'XX', pollAt + leaseMs, trackId)
  hinted[#hinted + 1] = run
  hinted[#hinted + 1] = trackId
  hinted[#hinted + 1] = pollAt
end

local run, i = 0, FIRST_RUN
while i <= #ARGV do
  run = run + 1
  local experimentTrackId, count = ARGV[i], tonumber(ARGV[i + 1])
  local found = false
  for r = i + 2, i + 1 + count do
    if redis.call('EXISTS', trackKeyPrefix .. ARGV[r]) == 1 then
      found = true
      hint(run, ARGV[r])
    end
  end
  if not found and experimentTrackId ~= '' and redis.call('EXISTS', trackKeyPrefix .. experimentTrackId) == 1 then
    hint(run, experimentTrackId)
  end
  i = i + 2 + count
end
return hinted

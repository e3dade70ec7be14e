--[[
  Creates the delivery records that do not exist yet, and indexes them among recent deliveries: a whole dispatch
  batch in one call. Dispatch may run twice for one event (a dispatcher died before acknowledging): a record that
  exists is left as it is.

  The recent ones are bounded, and so are the records: one dropped from the recent ones goes once it is final (sent
  or decided unsent) and `keepFinalMs` has passed since it last changed, so that a replayed dispatch or a job's late
  retry still finds it delivered (one that changed more recently expires when that time is up). One a job may still
  send (pending, retrying) or a dead letter (failed, kept until it is sent again) stays: marking it delivered later
  indexes it again.

  Input:
    KEYS[1] recent deliveries zset
    ARGV[1] now (ms)   ARGV[2] keep this many recent deliveries   ARGV[3] key prefix of delivery hashes
    ARGV[4] keepFinalMs
    ARGV[5..] per record: delivery id, the number n of field/value items, then the n items
  Output:
    the number of records created
]]
local recentKey = KEYS[1]
local now, keepRecent, deliveryKeyPrefix, keepFinalMs = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local FIRST_RECORD = 5
local FINAL = { delivered = true, silenced = true, inhibited = true, suppressed = true, incident = true }

local function forgetWhenFinal(deliveryKey)
  local state = redis.call('HMGET', deliveryKey, 'status', 'updatedAt')
  if not FINAL[state[1] or ''] then return end
  local left = tonumber(state[2] or '0') + keepFinalMs - tonumber(now)
  if left > 0 then redis.call('PEXPIRE', deliveryKey, left) else redis.call('DEL', deliveryKey) end
end

local created = 0
local i = FIRST_RECORD
while i <= #ARGV do
  local deliveryId, n = ARGV[i], tonumber(ARGV[i + 1])
  local deliveryKey = deliveryKeyPrefix .. deliveryId
  if redis.call('HSETNX', deliveryKey, 'status', 'pending') == 1 then
    local fields = { 'id', deliveryId, 'attempts', 0, 'retries', 0, 'createdAt', now, 'updatedAt', now }
    for j = i + 2, i + 1 + n do
      fields[#fields + 1] = ARGV[j]
    end
    redis.call('HSET', deliveryKey, unpack(fields))
    redis.call('ZADD', recentKey, now, deliveryId)
    created = created + 1
  end
  i = i + 2 + n
end
local excess = created > 0 and redis.call('ZCARD', recentKey) - keepRecent or 0
if excess > 0 then
  for _, old in ipairs(redis.call('ZRANGE', recentKey, 0, excess - 1)) do
    forgetWhenFinal(deliveryKeyPrefix .. old)
  end
  redis.call('ZREMRANGEBYRANK', recentKey, 0, excess - 1)
end
return created

--[[
  Creates the delivery records that do not exist yet, and indexes them among recent deliveries: a whole dispatch
  batch in one call. Dispatch may run twice for one event (a dispatcher died before acknowledging): a record that
  exists is left as it is.

  Input:
    KEYS[1] recent deliveries zset
    ARGV[1] now (ms)   ARGV[2] keep this many recent deliveries   ARGV[3] key prefix of delivery hashes
    ARGV[4..] per record: delivery id, the number n of field/value items, then the n items
  Output:
    the number of records created
]]
local recentKey = KEYS[1]
local now, keepRecent, deliveryKeyPrefix = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local FIRST_RECORD = 4

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
if created > 0 then
  redis.call('ZREMRANGEBYRANK', recentKey, 0, -keepRecent - 1)
end
return created

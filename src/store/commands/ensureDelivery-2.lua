--[[
  Creates a delivery record (pending) unless it exists, and indexes it among recent deliveries.
  Dispatch may run twice for one event (a dispatcher died before acknowledging): the second call changes nothing.

  Input:
    KEYS[1] delivery hash   KEYS[2] recent deliveries zset
    ARGV[1] delivery id   ARGV[2] now (ms)   ARGV[3] keep this many recent deliveries
    ARGV[4..] field, value pairs of the record
  Output:
    1 when created, 0 when it existed
]]
local deliveryKey, recentKey = KEYS[1], KEYS[2]
local deliveryId, now, keepRecent = ARGV[1], ARGV[2], tonumber(ARGV[3])
local FIRST_FIELD = 4

if redis.call('HSETNX', deliveryKey, 'status', 'pending') == 0 then
  return 0
end
local fields = {}
for i = FIRST_FIELD, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', deliveryKey, 'id', deliveryId, 'attempts', 0, 'retries', 0, 'createdAt', now, 'updatedAt', now, unpack(fields))
redis.call('ZADD', recentKey, now, deliveryId)
redis.call('ZREMRANGEBYRANK', recentKey, 0, -keepRecent - 1)
return 1

--[[
  Creates a delivery record (pending) unless it exists, and indexes it among recent deliveries.
  Dispatch may run twice for one event (a dispatcher died before acknowledging): the second call changes nothing.

  KEYS[1] delivery hash   KEYS[2] recent deliveries zset
  ARGV[1] now (ms)   ARGV[2] keep this many recent deliveries   ARGV[3..] field, value pairs of the record
  Returns 1 when created, 0 when it existed.
]]
if redis.call('HSETNX', KEYS[1], 'status', 'pending') == 0 then
  return 0
end
local fields = {}
for i = 3, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', KEYS[1], 'attempts', 0, 'retries', 0, 'createdAt', ARGV[1], 'updatedAt', ARGV[1], unpack(fields))
redis.call('ZADD', KEYS[2], ARGV[1], KEYS[1]:match('[^:]+$'))
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[2]) - 1)
return 1

--[[
  Marks deliveries delivered, as one step right after their sends: no longer claimed, no longer a dead letter,
  first among recent deliveries. A whole batch in one call.

  Input:
    KEYS[1] recent deliveries zset   KEYS[2] dead letters zset
    ARGV[1] now (ms)   ARGV[2] the attempt that delivered   ARGV[3] key prefix of delivery hashes
    ARGV[4..] pairs: delivery id, detail ('' for none)
  Output:
    the number marked
]]
local recentKey, deadKey = KEYS[1], KEYS[2]
local now, attempt, deliveryKeyPrefix = ARGV[1], ARGV[2], ARGV[3]
local FIRST_PAIR = 4

for i = FIRST_PAIR, #ARGV, 2 do
  local deliveryId, detail = ARGV[i], ARGV[i + 1]
  local deliveryKey = deliveryKeyPrefix .. deliveryId
  if detail ~= '' then
    redis.call('HSET', deliveryKey, 'status', 'delivered', 'attempts', attempt, 'updatedAt', now, 'detail', detail)
  else
    redis.call('HSET', deliveryKey, 'status', 'delivered', 'attempts', attempt, 'updatedAt', now)
  end
  redis.call('HDEL', deliveryKey, 'lastError', 'claim', 'claimUntil')
  redis.call('ZADD', recentKey, now, deliveryId)
  redis.call('ZREM', deadKey, deliveryId)
end
return (#ARGV - FIRST_PAIR + 1) / 2

--[[
  Adds a track if it is not stored yet, and makes it due at once.
  KEYS[1] track hash      KEYS[2] tracks set      KEYS[3] due zset of its provider
  ARGV[1] track id        ARGV[2] track json      ARGV[3] now (ms)
  Returns 1 when added, 0 when the track existed (it is left as it was).
]]
if redis.call('HSETNX', KEYS[1], 'json', ARGV[2]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'lastChangeAt', ARGV[3], 'failures', 0)
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 1

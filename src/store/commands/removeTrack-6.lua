--[[
  Removes a track with its schedule and its state.
  KEYS[1] track hash   KEYS[2] tracks set   KEYS[3] due zset   KEYS[4] state hash   KEYS[5] seen zset
  KEYS[6] failing set
  ARGV[1] track id
  Returns 1 when removed, 0 when there was no such track.
]]
local existed = redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[6], ARGV[1])
redis.call('DEL', KEYS[4], KEYS[5])
return existed

--[[
  Adds a track if it is not stored yet, and makes it due at once.

  Input:
    KEYS[1] track hash   KEYS[2] tracks set   KEYS[3] due zset of its provider
    ARGV[1] track id     ARGV[2] track json   ARGV[3] now (ms)
  Output:
    1 when added, 0 when the track existed (it is left as it was)
]]
local trackKey, tracksKey, dueKey = KEYS[1], KEYS[2], KEYS[3]
local trackId, trackJson, now = ARGV[1], ARGV[2], ARGV[3]

if redis.call('HSETNX', trackKey, 'json', trackJson) == 0 then
  return 0
end
redis.call('HSET', trackKey, 'lastChangeAt', now, 'failures', 0)
redis.call('SADD', tracksKey, trackId)
redis.call('ZADD', dueKey, now, trackId)
return 1

--[[
  Removes a track with its schedule and its state.

  Input:
    KEYS[1] track hash   KEYS[2] tracks set   KEYS[3] due zset   KEYS[4] state hash   KEYS[5] seen zset
    KEYS[6] failing set
    ARGV[1] track id
  Output:
    1 when removed, 0 when there was no such track
]]
local trackKey, tracksKey, dueKey, stateKey, seenKey, failingKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local trackId = ARGV[1]

local existed = redis.call('DEL', trackKey)
redis.call('SREM', tracksKey, trackId)
redis.call('ZREM', dueKey, trackId)
redis.call('SREM', failingKey, trackId)
redis.call('DEL', stateKey, seenKey)
return existed

--[[
  An experiment track found pipeline runs: track each one not seen before, move the cursor, and
  reschedule the experiment track. The seen set only keeps runs newer than the cursor's slack window.

  KEYS[1] seen zset of the experiment track   KEYS[2] tracks set   KEYS[3] due zset   KEYS[4] experiment track hash
  KEYS[5] failing set
  ARGV[1] now (ms)   ARGV[2] forget seen runs created before this (ms)   ARGV[3] new cursor (ms)
  ARGV[4] next poll of the experiment track (ms)   ARGV[5] key prefix of track hashes
  ARGV[6] the experiment track's id   ARGV[7] creation time of the newest run listed (ms), 0 when none
  ARGV[8..] groups of 4: pipeline run id, created (ms), child track id, child track json
  Returns the number of new tracks; -1 when the experiment track is gone.
]]
if redis.call('EXISTS', KEYS[4]) == 0 then
  return -1
end
local added = 0
for i = 8, #ARGV, 4 do
  if redis.call('ZADD', KEYS[1], 'NX', ARGV[i + 1], ARGV[i]) == 1 then
    local childKey = ARGV[5] .. ARGV[i + 2]
    if redis.call('HSETNX', childKey, 'json', ARGV[i + 3]) == 1 then
      redis.call('HSET', childKey, 'lastChangeAt', ARGV[1], 'failures', 0)
      redis.call('SADD', KEYS[2], ARGV[i + 2])
      redis.call('ZADD', KEYS[3], ARGV[1], ARGV[i + 2])
      added = added + 1
    end
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
redis.call('HSET', KEYS[4], 'cursor', ARGV[3], 'failures', 0, 'errorRaised', 0)
-- When the newest run started (for `expect`: a missing nightly run); never moves back.
if tonumber(ARGV[7]) > tonumber(redis.call('HGET', KEYS[4], 'lastRunAt') or '0') then
  redis.call('HSET', KEYS[4], 'lastRunAt', ARGV[7])
end
redis.call('SREM', KEYS[5], ARGV[6])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[6])
return added

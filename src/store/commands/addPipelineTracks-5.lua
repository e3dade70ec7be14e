--[[
  An experiment track found pipeline runs: track each one not seen before, move the cursor, and
  reschedule the experiment track. The seen set only keeps runs newer than the cursor's slack window.

  Input:
    KEYS[1] seen zset of the experiment track   KEYS[2] tracks set   KEYS[3] due zset
    KEYS[4] experiment track hash               KEYS[5] failing set
    ARGV[1] now (ms)   ARGV[2] forget seen runs created before this (ms)   ARGV[3] new cursor (ms)
    ARGV[4] next poll of the experiment track (ms)   ARGV[5] key prefix of track hashes
    ARGV[6] the experiment track's id   ARGV[7] creation time of the newest run listed (ms), 0 when none
    ARGV[8..] groups of 4: pipeline run id, created (ms), child track id, child track json
  Output:
    the ids of the new tracks; {-1} when the experiment track is gone (the error shape of every script)
]]
local seenKey, tracksKey, dueKey, trackKey, failingKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now, forgetBefore, cursor, nextPollAt = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local trackKeyPrefix, trackId, newestRunAt = ARGV[5], ARGV[6], tonumber(ARGV[7])
local FIRST_RUN = 8

if redis.call('EXISTS', trackKey) == 0 then
  return {-1}
end
local added = {}
for i = FIRST_RUN, #ARGV, 4 do
  local runId, createdAt, childId, childJson = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if redis.call('ZADD', seenKey, 'NX', createdAt, runId) == 1 then
    local childKey = trackKeyPrefix .. childId
    if redis.call('HSETNX', childKey, 'json', childJson) == 1 then
      redis.call('HSET', childKey, 'lastChangeAt', now, 'failures', 0)
      redis.call('SADD', tracksKey, childId)
      redis.call('ZADD', dueKey, now, childId)
      added[#added + 1] = childId
    end
  end
end
redis.call('ZREMRANGEBYSCORE', seenKey, '-inf', '(' .. forgetBefore)
redis.call('HSET', trackKey, 'cursor', cursor, 'failures', 0, 'errorRaised', 0)
-- When the newest run started (for `expect`: a missing nightly run); never moves back.
if newestRunAt > tonumber(redis.call('HGET', trackKey, 'lastRunAt') or '0') then
  redis.call('HSET', trackKey, 'lastRunAt', newestRunAt)
end
redis.call('SREM', failingKey, trackId)
redis.call('ZADD', dueKey, nextPollAt, trackId)
return added

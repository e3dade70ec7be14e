--[[
  Counts a failed poll, reschedules the track with backoff, and raises ONE track.error event once the
  failures reach the threshold (not one per poll). A successful poll (commitPoll) resets the count.

  Input:
    KEYS[1] track hash   KEYS[2] due zset   KEYS[3] events stream   KEYS[4] state hash   KEYS[5] failing set
    ARGV[1] track id     ARGV[2] next poll time (ms)   ARGV[3] threshold
    ARGV[4] expected '@error' state ('' = none yet)    ARGV[5] new '@error' state   ARGV[6] event json
  Output:
    {failures, raised (1|0)}; {-1, 0} when the track is gone
]]
local trackKey, dueKey, eventsKey, stateKey, failingKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local trackId, nextPollAt, threshold = ARGV[1], ARGV[2], tonumber(ARGV[3])
local expectedError, nextError, eventJson = ARGV[4], ARGV[5], ARGV[6]

if redis.call('EXISTS', trackKey) == 0 then
  return {-1, 0}
end
local failures = redis.call('HINCRBY', trackKey, 'failures', 1)
redis.call('ZADD', dueKey, nextPollAt, trackId)
local raised = 0
if failures >= threshold and redis.call('HGET', trackKey, 'errorRaised') ~= '1' then
  if (redis.call('HGET', stateKey, '@error') or '') == expectedError then
    redis.call('HSET', stateKey, '@error', nextError)
    redis.call('XADD', eventsKey, '*', 'event', eventJson)
    raised = 1
  end
  redis.call('HSET', trackKey, 'errorRaised', '1')
  redis.call('SADD', failingKey, trackId)
end
return {failures, raised}

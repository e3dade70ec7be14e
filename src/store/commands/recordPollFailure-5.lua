--[[
  Counts a failed poll, reschedules the track with backoff, and raises ONE track.error event once the
  failures reach the threshold (not one per poll). A successful poll (commitPoll) resets the count.

  KEYS[1] track hash   KEYS[2] due zset   KEYS[3] events stream   KEYS[4] state hash   KEYS[5] failing set
  ARGV[1] track id     ARGV[2] next poll time (ms)   ARGV[3] threshold   ARGV[4] stream max length
  ARGV[5] expected '@error' state ('' = none yet)    ARGV[6] new '@error' state   ARGV[7] event json
  Returns {failures, raised (1|0)}; {-1, 0} when the track is gone.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {-1, 0}
end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
local raised = 0
if failures >= tonumber(ARGV[3]) and redis.call('HGET', KEYS[1], 'errorRaised') ~= '1' then
  local current = redis.call('HGET', KEYS[4], '@error') or ''
  if current == ARGV[5] then
    redis.call('HSET', KEYS[4], '@error', ARGV[6])
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'event', ARGV[7])
    raised = 1
  end
  redis.call('HSET', KEYS[1], 'errorRaised', '1')
  redis.call('SADD', KEYS[5], ARGV[1])
end
return {failures, raised}

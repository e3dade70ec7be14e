--[[
  Applies one poll's observations atomically: compare-and-set each changed status, append one event per
  transition to the events stream (the outbox), then reschedule or retire the track.
  A replayed commit (the same poll run twice, or two workers seeing the same change) appends nothing:
  its expected values no longer match.

  KEYS[1] state hash (field -> "seq|status")   KEYS[2] events stream   KEYS[3] due zset
  KEYS[4] track hash                            KEYS[5] tracks set   KEYS[6] failing set (tracks in error)
  ARGV[1] track id   ARGV[2] now (ms)   ARGV[3] next poll time (ms), or -1 to retire the track
  ARGV[4] stream max length (approximate)
  ARGV[5..] groups of 4: field, expected value ('' = never seen), new value, event json
  Returns {appended, conflicts}; {-1, 0} when the track is gone (untracked meanwhile).
]]
if redis.call('EXISTS', KEYS[4]) == 0 then
  return {-1, 0}
end
local appended, conflicts = 0, 0
for i = 5, #ARGV, 4 do
  local current = redis.call('HGET', KEYS[1], ARGV[i]) or ''
  if current == ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 2])
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'event', ARGV[i + 3])
    appended = appended + 1
  else
    conflicts = conflicts + 1
  end
end
redis.call('HSET', KEYS[4], 'failures', 0, 'errorRaised', 0)
redis.call('SREM', KEYS[6], ARGV[1])
if appended > 0 then
  redis.call('HSET', KEYS[4], 'lastChangeAt', ARGV[2])
end
if ARGV[3] == '-1' and conflicts == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('SREM', KEYS[5], ARGV[1])
  redis.call('DEL', KEYS[4], KEYS[1])
elseif conflicts > 0 or ARGV[3] == '-1' then
  -- Someone else moved the state on: look again at once rather than act on a stale view.
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
else
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
end
return {appended, conflicts}

--[[
  Applies one poll's observations atomically: compare-and-set each changed status, append one event per
  transition to the events stream (the outbox), then reschedule or retire the track.
  A replayed commit (the same poll run twice, or two workers seeing the same change) appends nothing:
  its expected values no longer match.

  Input:
    KEYS[1] state hash (field -> "seq|status")   KEYS[2] events stream   KEYS[3] due zset
    KEYS[4] track hash                            KEYS[5] tracks set   KEYS[6] failing set (tracks in error)
    ARGV[1] track id   ARGV[2] now (ms)   ARGV[3] next poll time (ms), or -1 to retire the track
    ARGV[4..] groups of 4: field, expected value ('' = never seen), new value, event json
  Output:
    {appended, conflicts}; {-1, 0} when the track is gone (untracked meanwhile)
]]
local stateKey, eventsKey, dueKey, trackKey, tracksKey, failingKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local trackId, now, nextPollAt = ARGV[1], ARGV[2], ARGV[3]
local FIRST_TRANSITION = 4
local retire = nextPollAt == '-1'

if redis.call('EXISTS', trackKey) == 0 then
  return {-1, 0}
end
local appended, conflicts = 0, 0
for i = FIRST_TRANSITION, #ARGV, 4 do
  local field, expected, nextValue, eventJson = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if (redis.call('HGET', stateKey, field) or '') == expected then
    redis.call('HSET', stateKey, field, nextValue)
    redis.call('XADD', eventsKey, '*', 'event', eventJson)
    appended = appended + 1
  else
    conflicts = conflicts + 1
  end
end
redis.call('HSET', trackKey, 'failures', 0, 'errorRaised', 0)
redis.call('SREM', failingKey, trackId)
if appended > 0 then
  redis.call('HSET', trackKey, 'lastChangeAt', now)
end
if retire and conflicts == 0 then
  redis.call('ZREM', dueKey, trackId)
  redis.call('SREM', tracksKey, trackId)
  redis.call('DEL', trackKey, stateKey)
elseif conflicts > 0 or retire then
  -- Someone else moved the state on: look again at once rather than act on a stale view.
  redis.call('ZADD', dueKey, now, trackId)
else
  redis.call('ZADD', dueKey, nextPollAt, trackId)
end
return {appended, conflicts}

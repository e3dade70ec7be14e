--[[
  Applies one poll's observations atomically: compare-and-set each changed status, append one event per
  transition to the events stream (the outbox), note its stuck deadline, then reschedule or retire the track.
  A replayed commit (the same poll run twice, or two workers seeing the same change) appends nothing:
  its expected values no longer match. A transition's stuck deadline is written with it, so that a poll that
  dies after its commit cannot leave a step running without one (its replay sees no transition).

  Input:
    KEYS[1] state hash (field -> "seq|status")   KEYS[2] events stream   KEYS[3] due zset
    KEYS[4] track hash                            KEYS[5] tracks set   KEYS[6] failing set (tracks in error)
    KEYS[7] stuck deadlines zset                  KEYS[8] stuck facts hash
    ARGV[1] track id   ARGV[2] now (ms)   ARGV[3] next poll time (ms), or -1 to retire the track
    ARGV[4..] groups of 7: field, expected value ('' = never seen), new value, event json,
              stuck member ('' = no note), its deadline (ms; '' = the step ended: drop it), its facts json
  Output:
    {appended, conflicts, won} (won: '1' or '0' per transition, in order); {-1, 0} when the track is gone
]]
local stateKey, eventsKey, dueKey, trackKey, tracksKey, failingKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local stuckKey, stuckInfoKey = KEYS[7], KEYS[8]
local trackId, now, nextPollAt = ARGV[1], ARGV[2], ARGV[3]
local FIRST_TRANSITION, GROUP = 4, 7
local retire = nextPollAt == '-1'

if redis.call('EXISTS', trackKey) == 0 then
  return {-1, 0}
end
local appended, conflicts, won = 0, 0, {}
for i = FIRST_TRANSITION, #ARGV, GROUP do
  local field, expected, nextValue, eventJson = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local stuckMember, deadline, facts = ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  if (redis.call('HGET', stateKey, field) or '') == expected then
    redis.call('HSET', stateKey, field, nextValue)
    redis.call('XADD', eventsKey, '*', 'event', eventJson)
    if stuckMember ~= '' and deadline ~= '' then
      redis.call('ZADD', stuckKey, deadline, stuckMember)
      redis.call('HSET', stuckInfoKey, stuckMember, facts)
    elseif stuckMember ~= '' then
      redis.call('ZREM', stuckKey, stuckMember)
      redis.call('HDEL', stuckInfoKey, stuckMember)
    end
    appended = appended + 1
    won[#won + 1] = '1'
  else
    conflicts = conflicts + 1
    won[#won + 1] = '0'
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
return {appended, conflicts, table.concat(won)}

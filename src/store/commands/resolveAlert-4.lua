--[[
  Resolves an open alert and appends its alert.resolved event to the outbox, in one step: the event is
  appended once, whoever replays the resolve. The alert must still be the one that was read (same opener).

  Input:
    KEYS[1] alert hash   KEYS[2] open alerts zset   KEYS[3] events stream   KEYS[4] repeats zset
    ARGV[1] alert id   ARGV[2] expected openedBy   ARGV[3] alert.resolved event json
    ARGV[4..] repeat members to drop
  Output:
    1 when resolved, 0 when the alert was not (or no longer) that one
]]
local alertKey, openAlertsKey, eventsKey, repeatsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local alertId, openedBy, eventJson = ARGV[1], ARGV[2], ARGV[3]
local FIRST_REPEAT = 4

if redis.call('HGET', alertKey, 'openedBy') ~= openedBy then
  return 0
end
redis.call('DEL', alertKey)
redis.call('ZREM', openAlertsKey, alertId)
for i = FIRST_REPEAT, #ARGV do
  redis.call('ZREM', repeatsKey, ARGV[i])
end
redis.call('XADD', eventsKey, '*', 'event', eventJson)
return 1

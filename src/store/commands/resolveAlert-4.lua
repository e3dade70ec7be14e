--[[
  Resolves an open alert and appends its alert.resolved event to the outbox, in one step: the event is
  appended once, whoever replays the resolve. The alert must still be the one that was read (same opener), and
  its messages the ones the event names: a message noted since the read (a group flushed, a repeat sent) must be
  in the resolve, which follows it; then the caller reads the alert again and builds the event anew.

  Input:
    KEYS[1] alert hash   KEYS[2] open alerts zset   KEYS[3] events stream   KEYS[4] repeats zset
    ARGV[1] alert id   ARGV[2] expected openedBy   ARGV[3] alert.resolved event json
    ARGV[4..] notifier, delivery id pairs: the messages (`n:<notifier>`) the event was built from
  Output:
    1 when resolved, 0 when the alert was not (or no longer) that one, 2 when its messages changed since the read
]]
local alertKey, openAlertsKey, eventsKey, repeatsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local alertId, openedBy, eventJson = ARGV[1], ARGV[2], ARGV[3]
local FIRST_MESSAGE = 4

if redis.call('HGET', alertKey, 'openedBy') ~= openedBy then
  return 0
end
local fields = redis.call('HGETALL', alertKey)
local messages, repeating = {}, {}
for i = 1, #fields, 2 do
  local field = fields[i]
  local kind, notifier = field:sub(1, 2), field:sub(3)
  if kind == 'n:' then
    messages[notifier] = fields[i + 1]
  elseif kind == 'r:' then
    repeating[#repeating + 1] = notifier
  end
end
local expected = 0
for i = FIRST_MESSAGE, #ARGV, 2 do
  if messages[ARGV[i]] ~= ARGV[i + 1] then
    return 2
  end
  expected = expected + 1
end
for _ in pairs(messages) do
  expected = expected - 1
end
if expected ~= 0 then
  return 2
end
redis.call('DEL', alertKey)
redis.call('ZREM', openAlertsKey, alertId)
for _, notifier in ipairs(repeating) do
  redis.call('ZREM', repeatsKey, alertId .. '|' .. notifier)
end
redis.call('XADD', eventsKey, '*', 'event', eventJson)
return 1

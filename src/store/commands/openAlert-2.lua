--[[
  Opens an alert, or notes one more failure of an alert already open. Idempotent for one event: a replayed
  dispatch finds `openedBy` or `lastBy` equal to the event and changes nothing.

  Input:
    KEYS[1] alert hash   KEYS[2] open alerts zset
    ARGV[1] alert id   ARGV[2] now (ms)   ARGV[3] event id   ARGV[4] max open alerts
    ARGV[5] the number n of items describing the opening event (written only when the alert opens: `key`, and
            `event`, the event's json, in parts: text-parts.ts)
    ARGV[6..5+n] those field, value items
    ARGV[6+n..] field, value pairs noting messages on their way: `n:<notifier>` = delivery id of the message it is
               sent now, `g:<notifier>` = delivery id of the group notification that will carry it
  Output:
    1 when opened, 0 when it was open already
]]
local alertKey, openAlertsKey = KEYS[1], KEYS[2]
local alertId, now, eventId, maxAlerts, openingItems = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local FIRST_OPENING = 6
local FIRST_NOTE = FIRST_OPENING + openingItems

local opened = 0
if redis.call('EXISTS', alertKey) == 0 then
  redis.call('HSET', alertKey, 'openedAt', now, 'openedBy', eventId, 'lastAt', now, 'lastBy', eventId, 'failures', 1,
    unpack(ARGV, FIRST_OPENING, FIRST_NOTE - 1))
  redis.call('ZADD', openAlertsKey, now, alertId)
  opened = 1
  -- Bounded: past the limit the oldest open alerts are forgotten (they can no longer be resolved).
  local excess = redis.call('ZCARD', openAlertsKey) - maxAlerts
  if excess > 0 then
    local alertKeyPrefix = alertKey:sub(1, #alertKey - #alertId)
    for _, old in ipairs(redis.call('ZRANGE', openAlertsKey, 0, excess - 1)) do
      redis.call('DEL', alertKeyPrefix .. old)
    end
    redis.call('ZREMRANGEBYRANK', openAlertsKey, 0, excess - 1)
  end
elseif redis.call('HGET', alertKey, 'openedBy') ~= eventId and redis.call('HGET', alertKey, 'lastBy') ~= eventId then
  redis.call('HSET', alertKey, 'lastAt', now, 'lastBy', eventId)
  redis.call('HINCRBY', alertKey, 'failures', 1)
end
for i = FIRST_NOTE, #ARGV, 2 do
  redis.call('HSET', alertKey, ARGV[i], ARGV[i + 1])
end
return opened

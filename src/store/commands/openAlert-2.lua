--[[
  Opens an alert, or notes one more failure of an alert already open. Idempotent for one event: a replayed
  dispatch finds `openedBy` or `lastBy` equal to the event and changes nothing.

  KEYS[1] alert hash   KEYS[2] open alerts zset
  ARGV[1] alert id   ARGV[2] now (ms)   ARGV[3] event id   ARGV[4] max open alerts
  ARGV[5] key   ARGV[6] event type   ARGV[7] summary   ARGV[8] run   ARGV[9] event json
  ARGV[10..] notifiers sent the alert
  Returns 1 when opened, 0 when it was open already.
]]
local id, now, eventId, maxAlerts = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local opened = 0
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'key', ARGV[5], 'openedAt', now, 'openedBy', eventId, 'openedType', ARGV[6], 'openedSummary', ARGV[7],
    'openedRun', ARGV[8], 'event', ARGV[9], 'lastAt', now, 'lastBy', eventId, 'failures', 1)
  redis.call('ZADD', KEYS[2], now, id)
  opened = 1
  -- Bounded: past the limit the oldest open alerts are forgotten (they can no longer be resolved).
  local excess = redis.call('ZCARD', KEYS[2]) - maxAlerts
  if excess > 0 then
    local prefix = KEYS[1]:sub(1, #KEYS[1] - #id)
    for _, old in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
      redis.call('DEL', prefix .. old)
    end
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  end
elseif redis.call('HGET', KEYS[1], 'openedBy') ~= eventId and redis.call('HGET', KEYS[1], 'lastBy') ~= eventId then
  redis.call('HSET', KEYS[1], 'lastAt', now, 'lastBy', eventId)
  redis.call('HINCRBY', KEYS[1], 'failures', 1)
end
for i = 10, #ARGV do
  redis.call('HSET', KEYS[1], 'n:' .. ARGV[i], 1)
end
return opened

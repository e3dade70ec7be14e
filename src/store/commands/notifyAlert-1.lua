--[[
  Notes the message of an open alert that a notifier is being sent now (a group's notification, a repeat): the
  alert's resolve waits for it. The notifier's pending group note goes either way. Nothing when the alert is closed:
  the caller must then not send.

  Input:
    KEYS[1] alert hash
    ARGV[1] notifier   ARGV[2] delivery id of the message ('' : only drop the pending group note)
  Output:
    1 when the alert is open, 0 when it is not
]]
local alertKey = KEYS[1]
local notifier, deliveryId = ARGV[1], ARGV[2]

if redis.call('EXISTS', alertKey) == 0 then
  return 0
end
if deliveryId ~= '' then
  redis.call('HSET', alertKey, 'n:' .. notifier, deliveryId)
end
redis.call('HDEL', alertKey, 'g:' .. notifier)
return 1

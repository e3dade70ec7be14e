--[[
  Notes the message of open alerts that a notifier is being sent now (a group's notification, a repeat): each alert's
  resolve waits for it. The notifier's pending group note goes either way. Nothing for an alert that is closed: the
  caller must then not send it. A group's alerts in one call.
  Input:
    KEYS[1] open alerts zset (names the slot: every alert hash shares its hash tag)
    ARGV[1] key prefix of alert hashes   ARGV[2] notifier
    ARGV[3..] pairs: alert id, delivery id of the message ('' : only drop the pending group note)
  Output:
    per pair, 1 when the alert is open, 0 when it is not
]]
local alertKeyPrefix, notifier = ARGV[1], ARGV[2]
local FIRST_PAIR = 3
local open = {}
for i = FIRST_PAIR, #ARGV, 2 do
  local alertKey, deliveryId = alertKeyPrefix .. ARGV[i], ARGV[i + 1]
  if redis.call('EXISTS', alertKey) == 0 then
    open[#open + 1] = 0
  else
    if deliveryId ~= '' then
      redis.call('HSET', alertKey, 'n:' .. notifier, deliveryId)
    end
    redis.call('HDEL', alertKey, 'g:' .. notifier)
    open[#open + 1] = 1
  end
end
return open

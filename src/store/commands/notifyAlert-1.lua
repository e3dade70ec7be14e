--[[
  Notes that a notifier was sent an alert (a grouped notification was delivered), if the alert is still open.

  Input:
    KEYS[1] alert hash
    ARGV[1] notifier
  Output:
    1 when noted, 0 when the alert is not open
]]
local alertKey = KEYS[1]
local notifier = ARGV[1]

if redis.call('EXISTS', alertKey) == 0 then
  return 0
end
redis.call('HSET', alertKey, 'n:' .. notifier, 1)
return 1

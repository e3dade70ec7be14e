--[[
  Notes that a notifier was sent an alert (a grouped notification was delivered), if the alert is still open.
  KEYS[1] alert hash   ARGV[1] notifier
  Returns 1 when noted, 0 when the alert is not open.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'n:' .. ARGV[1], 1)
return 1

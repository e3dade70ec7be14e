--[[
  Acknowledges an open alert: who, when, and an optional comment. The first acknowledgement stands (a second one,
  e.g. PagerDuty delivering its webhook again, changes nothing). Nothing when the alert is not open: a hash is
  never created for an alert that resolved meanwhile.

  Input:
    KEYS[1] alert hash
    ARGV[1] by   ARGV[2] at (ms)   ARGV[3] comment ('' for none)
  Output:
    1 when acknowledged now, 2 when it was already acknowledged, 0 when the alert is not open
]]
local alertKey = KEYS[1]
local by, at, comment = ARGV[1], ARGV[2], ARGV[3]

if redis.call('EXISTS', alertKey) == 0 then
  return 0
end
if redis.call('HEXISTS', alertKey, 'ackedBy') == 1 then
  return 2
end
redis.call('HSET', alertKey, 'ackedBy', by, 'ackedAt', at)
if comment ~= '' then
  redis.call('HSET', alertKey, 'ackComment', comment)
end
return 1

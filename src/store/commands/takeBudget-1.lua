--[[
  Takes one request from a provider's budget for the current minute window.
  KEYS[1] the window's counter   ARGV[1] requests allowed per window   ARGV[2] window length (ms)
  Returns 1 when the request may go, 0 when the window is spent.
]]
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
end
if n > tonumber(ARGV[1]) then
  return 0
end
return 1

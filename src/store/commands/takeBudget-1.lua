--[[
  Takes one request from a provider's budget for the current minute window.

  Input:
    KEYS[1] the window's counter
    ARGV[1] requests allowed per window   ARGV[2] window length (ms)
  Output:
    1 when the request may go, 0 when the window is spent
]]
local counterKey = KEYS[1]
local perWindow, windowMs = tonumber(ARGV[1]), tonumber(ARGV[2])

local n = redis.call('INCR', counterKey)
if n == 1 then
  redis.call('PEXPIRE', counterKey, windowMs * 2)
end
if n > perWindow then
  return 0
end
return 1

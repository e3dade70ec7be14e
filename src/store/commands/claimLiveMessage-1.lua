--[[
  Takes over posting a live message whose poster died between claiming and posting: once, by comparing
  and setting the claim time.

  Input:
    KEYS[1] live message hash
    ARGV[1] the claim time read   ARGV[2] now (ms)
  Output:
    1 when taken over, 0 when someone else did (or the message was posted)
]]
local messageKey = KEYS[1]
local claimRead, now = ARGV[1], ARGV[2]

if redis.call('HGET', messageKey, 'claim') == claimRead and not redis.call('HGET', messageKey, 'ts') then
  redis.call('HSET', messageKey, 'claim', now)
  return 1
end
return 0

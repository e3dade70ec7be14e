--[[
  Releases a lock taken with SET key token NX PX, if the caller still holds it (its lease may have passed and
  another caller taken it since).

  Input:
    KEYS[1] lock key
    ARGV[1] the holder's token
  Output:
    1 when released, 0 when the lock was not (or no longer) the caller's
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0

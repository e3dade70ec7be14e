--[[
  Closes a generation of a notification group (later events start the next one) and returns its events.
  Closing again (a retried delivery) returns the same events.

  Input:
    KEYS[1] group hash
    ARGV[1] generation   ARGV[2] now (ms)
  Output:
    the event json strings, in arrival order
]]
local groupKey = KEYS[1]
local gen, now = ARGV[1], ARGV[2]

if redis.call('HGET', groupKey, 'gen') == gen and redis.call('HGET', groupKey, 'closed') ~= '1' then
  redis.call('HSET', groupKey, 'closed', 1, 'flushedAt', now)
end
return redis.call('LRANGE', groupKey .. ':' .. gen, 0, -1)

--[[
  Closes a generation of a notification group (later events start the next one) and returns its events.
  Closing again (a retried delivery) returns the same events.

  KEYS[1] group hash   ARGV[1] generation   ARGV[2] now (ms)
  Returns the event json strings, in arrival order.
]]
local gen = ARGV[1]
if redis.call('HGET', KEYS[1], 'gen') == gen and redis.call('HGET', KEYS[1], 'closed') ~= '1' then
  redis.call('HSET', KEYS[1], 'closed', 1, 'flushedAt', ARGV[2])
end
return redis.call('LRANGE', KEYS[1] .. ':' .. gen, 0, -1)

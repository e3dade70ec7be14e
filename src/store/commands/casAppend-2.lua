--[[
  One compare-and-set with its event: if the field still holds the expected value, store the new one and
  append the event to the outbox. A replay finds the new value and appends nothing.

  KEYS[1] hash   KEYS[2] events stream
  ARGV[1] field   ARGV[2] expected value ('' = absent)   ARGV[3] new value   ARGV[4] stream max length
  ARGV[5] event json
  Returns 1 when appended, 0 when the field held something else.
]]
local field, expected, nextValue, maxLen, event = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if (redis.call('HGET', KEYS[1], field) or '') ~= expected then
  return 0
end
redis.call('HSET', KEYS[1], field, nextValue)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxLen, '*', 'event', event)
return 1

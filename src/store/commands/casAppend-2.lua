--[[
  One compare-and-set with its event: if the field still holds the expected value, store the new one and
  append the event to the outbox. A replay finds the new value and appends nothing.

  Input:
    KEYS[1] hash   KEYS[2] events stream
    ARGV[1] field   ARGV[2] expected value ('' = absent)   ARGV[3] new value   ARGV[4] event json
  Output:
    1 when appended, 0 when the field held something else
]]
local hashKey, eventsKey = KEYS[1], KEYS[2]
local field, expected, nextValue, eventJson = ARGV[1], ARGV[2], ARGV[3], ARGV[4]

if (redis.call('HGET', hashKey, field) or '') ~= expected then
  return 0
end
redis.call('HSET', hashKey, field, nextValue)
redis.call('XADD', eventsKey, '*', 'event', eventJson)
return 1

--[[
  Resolves an open alert and appends its alert.resolved event to the outbox, in one step: the event is
  appended once, whoever replays the resolve. The alert must still be the one that was read (same opener).

  KEYS[1] alert hash   KEYS[2] open alerts zset   KEYS[3] events stream   KEYS[4] repeats zset
  ARGV[1] alert id   ARGV[2] expected openedBy   ARGV[3] stream max length   ARGV[4] alert.resolved event json
  ARGV[5..] repeat members to drop
  Returns 1 when resolved, 0 when the alert was not (or no longer) that one.
]]
if redis.call('HGET', KEYS[1], 'openedBy') ~= ARGV[2] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
for i = 5, #ARGV do
  redis.call('ZREM', KEYS[4], ARGV[i])
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'event', ARGV[4])
return 1

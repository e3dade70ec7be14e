--[[
  Adds an event to the open generation of a notification group, or starts a new generation (the first
  event of a group, or the first after the previous one was sent). Idempotent per event id.
  The generation's event list is `<group hash key>:<generation>`: the same hash tag, so the same slot.

  KEYS[1] group hash
  ARGV[1] now (ms)   ARGV[2] wait (ms)   ARGV[3] interval (ms)   ARGV[4] event id   ARGV[5] event json
  ARGV[6] keep (ms): how long a group's records outlive its last event
  Returns {generation, flush time (ms)} of the generation that holds the event.
]]
local group, now, wait, interval = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local eventField = 'e:' .. ARGV[4]
local known = redis.call('HGET', group, eventField)
if known then
  return {tonumber(known), tonumber(redis.call('HGET', group, 'flushAt:' .. known) or now)}
end
local gen = tonumber(redis.call('HGET', group, 'gen') or '0')
if gen == 0 or redis.call('HGET', group, 'closed') == '1' then
  gen = gen + 1
  -- Alertmanager's group_interval: a group that was just sent waits this long before the next notification
  -- (the same rule as groupFlushAt in src/alerts/timing.ts).
  local flushed = tonumber(redis.call('HGET', group, 'flushedAt') or '0')
  local flushAt = math.max(now + wait, flushed + interval)
  redis.call('HSET', group, 'gen', gen, 'closed', 0, 'flushAt:' .. gen, flushAt)
end
redis.call('HSET', group, eventField, gen)
local list = group .. ':' .. gen
redis.call('RPUSH', list, ARGV[5])
redis.call('PEXPIRE', group, ARGV[6])
redis.call('PEXPIRE', list, ARGV[6])
return {gen, tonumber(redis.call('HGET', group, 'flushAt:' .. gen))}

--[[
  Adds an event to the open generation of a notification group, or starts a new generation (the first
  event of a group, or the first after the previous one was sent). Idempotent per event id.
  The generation's event list is `<group hash key>:<generation>`: the same hash tag, so the same slot.
  The group keeps its wait and interval: an alert's resolve joins the group that told it with the group's own
  (wait -1), and finds nothing to join once the group is gone.

  Input:
    KEYS[1] group hash
    ARGV[1] now (ms)   ARGV[2] wait (ms), or -1: the group's own   ARGV[3] interval (ms)   ARGV[4] event id
    ARGV[5] event json   ARGV[6] keep (ms): how long a group's records outlive its last event
    ARGV[7] when the wait starts (ms, at most now): when the watcher saw the event (see waitStartOf in plan.ts)
  Output:
    {generation, flush time (ms)} of the generation that holds the event; {0, 0} for wait -1 and no group
]]
local groupKey = KEYS[1]
local now, wait, interval = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local eventId, eventJson, keepMs = ARGV[4], ARGV[5], ARGV[6]
local since = tonumber(ARGV[7])

if wait < 0 then
  local own = redis.call('HMGET', groupKey, 'wait', 'interval')
  if not own[1] then
    return {0, 0}
  end
  wait, interval = tonumber(own[1]), tonumber(own[2])
end

local eventField = 'e:' .. eventId
local known = redis.call('HGET', groupKey, eventField)
if known then
  return {tonumber(known), tonumber(redis.call('HGET', groupKey, 'flushAt:' .. known) or now)}
end
local gen = tonumber(redis.call('HGET', groupKey, 'gen') or '0')
if gen == 0 or redis.call('HGET', groupKey, 'closed') == '1' then
  gen = gen + 1
  -- Alertmanager's group_interval: a group that was just sent waits this long before the next notification
  -- (the same rule as groupFlushAt in src/alerts/timing.ts).
  local flushed = tonumber(redis.call('HGET', groupKey, 'flushedAt') or '0')
  local flushAt = math.max(since + wait, flushed + interval)
  redis.call('HSET', groupKey, 'gen', gen, 'closed', 0, 'flushAt:' .. gen, flushAt, 'wait', wait, 'interval', interval)
end
redis.call('HSET', groupKey, eventField, gen)
local listKey = groupKey .. ':' .. gen
redis.call('RPUSH', listKey, eventJson)
redis.call('PEXPIRE', groupKey, keepMs)
redis.call('PEXPIRE', listKey, keepMs)
return {gen, tonumber(redis.call('HGET', groupKey, 'flushAt:' .. gen))}

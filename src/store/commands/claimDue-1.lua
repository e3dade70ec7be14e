--[[
  Claims what is due in a schedule by a horizon: returns each member with its due time, and pushes its
  score to a lease (its due time, or now if later, plus the lease length), so another scheduler (another
  daemon) does not claim it again. Whoever handles a member reschedules it; if that is lost (a crash), the
  lease runs out and the member is claimed again.

  Input:
    KEYS[1] schedule zset (member -> due time, ms)
    ARGV[1] now (ms)   ARGV[2] horizon: claim what is due by then (ms)   ARGV[3] limit   ARGV[4] lease (ms)
  Output:
    {member, due time, member, due time, ...}, earliest first
]]
local scheduleKey = KEYS[1]
local now, horizon, limit, leaseMs = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])

local claimed = redis.call('ZRANGEBYSCORE', scheduleKey, '-inf', horizon, 'WITHSCORES', 'LIMIT', 0, limit)
for i = 1, #claimed, 2 do
  local dueAt = tonumber(claimed[i + 1])
  redis.call('ZADD', scheduleKey, math.max(dueAt, now) + leaseMs, claimed[i])
end
return claimed

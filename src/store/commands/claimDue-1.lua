--[[
  Claims what is due in a schedule: returns the members and pushes their score to a lease time, so another
  scheduler (another daemon) does not claim them again. Whoever handles a member reschedules it; if that is
  lost (a crash), the lease runs out and the member is claimed again.

  Input:
    KEYS[1] schedule zset (member -> due time, ms)
    ARGV[1] now (ms)   ARGV[2] limit   ARGV[3] lease until (ms)
  Output:
    the members claimed
]]
local scheduleKey = KEYS[1]
local now, limit, leaseUntil = ARGV[1], tonumber(ARGV[2]), ARGV[3]

local members = redis.call('ZRANGEBYSCORE', scheduleKey, '-inf', now, 'LIMIT', 0, limit)
for _, member in ipairs(members) do
  redis.call('ZADD', scheduleKey, leaseUntil, member)
end
return members

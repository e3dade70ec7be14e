--[[
  Claims the tracks that are due: returns their ids and pushes their score to a lease time, so another
  scheduler (another daemon) does not claim them again. A poll reschedules its track when it ends; if the
  poll is lost (a crash), the lease runs out and the track is claimed again.

  KEYS[1] due zset
  ARGV[1] now (ms)   ARGV[2] limit   ARGV[3] lease until (ms)
]]
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], ARGV[3], id)
end
return ids

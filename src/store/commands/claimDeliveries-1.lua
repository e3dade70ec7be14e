--[[
  Claims deliveries for one job before it sends them: a delivery already delivered (or decided unsent) is not claimed,
  nor one another job holds a live claim on. A job that held the claim (its own retry, or its re-run after its
  worker died) takes it again at once. So two jobs that carry the same delivery (a dispatch replayed into other
  batches) never send it both: the one without the claim leaves it to the holder.

  Input:
    KEYS[1] recent deliveries zset (names the slot: every delivery hash shares its hash tag)
    ARGV[1] now (ms)   ARGV[2] lease (ms)   ARGV[3] the claiming job's token   ARGV[4] key prefix of delivery hashes
    ARGV[5..] delivery ids
  Output:
    the ids claimed
]]
local now, leaseMs, token, deliveryKeyPrefix = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local FIRST_DELIVERY = 5

local claimed = {}
for i = FIRST_DELIVERY, #ARGV do
  local deliveryKey = deliveryKeyPrefix .. ARGV[i]
  local state = redis.call('HMGET', deliveryKey, 'status', 'claim', 'claimUntil')
  local status, holder, claimUntil = state[1], state[2], tonumber(state[3] or '0')
  if status ~= 'delivered' and status ~= 'silenced' and status ~= 'inhibited' and status ~= 'suppressed' and status ~= 'incident' and (not holder or holder == token or claimUntil < now) then
    redis.call('HSET', deliveryKey, 'claim', token, 'claimUntil', now + leaseMs)
    claimed[#claimed + 1] = ARGV[i]
  end
end
return claimed

--[[
  After a flush: the alerts it saw resolved leave the group (unless they opened again since: a member is removed only
  if it still names the opening the flush saw), the flush time is noted, and the group's next flush is set. A group
  with no alert left whose receiver holds nothing open (never told, or told resolved) is removed; its notification
  log is kept a while (its count of notifications goes on if the group comes back, so ids stay unique).

  Input:
    KEYS[1] group hash   KEYS[2] members hash   KEYS[3] notification log hash   KEYS[4] due zset
    ARGV[1] group id   ARGV[2] now (ms)   ARGV[3] next flush (ms)   ARGV[4] log lifetime (s)
    ARGV[5..] member key, the opening the flush saw resolved, ...
  Output:
    the alerts left in the group (0: removed)
]]
local groupKey, membersKey, logKey, dueKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local gid, now, nextAt, logTtl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])

for i = 5, #ARGV, 2 do
  if redis.call('HGET', membersKey, ARGV[i]) == ARGV[i + 1] then redis.call('HDEL', membersKey, ARGV[i]) end
end
local left = redis.call('HLEN', membersKey)
local action = redis.call('HGET', logKey, 'action')
if left == 0 and (not action or action == 'resolve') and not redis.call('HGET', logKey, 'pending') then
  redis.call('DEL', groupKey, membersKey)
  redis.call('ZREM', dueKey, gid)
  if redis.call('EXISTS', logKey) == 1 then redis.call('EXPIRE', logKey, logTtl) end
  return 0
end
redis.call('HSET', groupKey, 'flushedAt', now)
redis.call('PERSIST', logKey)
redis.call('ZADD', dueKey, nextAt, gid)
return left

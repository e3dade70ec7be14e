--[[
  An alert joins its incident group (or, with no member, a change of a member asks for a flush): the group is made
  if new (its first alert's time starts the wait: when the watcher saw it), the member noted with the event that
  opened its alert, and the group's next flush brought forward to when Alertmanager would look again: `wait` after
  the group's first alert, at most every `interval` after its last flush, never before `notBefore` (a held route).
  A touch of a group that is gone (every alert resolved and told) does nothing.

  Input:
    KEYS[1] group hash   KEYS[2] members hash   KEYS[3] due zset (group id -> next flush, ms)
    ARGV[1] group id   ARGV[2] now (ms)   ARGV[3] member key ('' for a touch)   ARGV[4] member value (its alert's
    opening event)   ARGV[5] notBefore (ms)   ARGV[6] the first alert's time (ms, at most now)
    ARGV[7..] field, value, ... of the group's settings (a join only)
  Output:
    the group's next flush time (ms), or -1 when a touched group is gone
]]
local groupKey, membersKey, dueKey = KEYS[1], KEYS[2], KEYS[3]
local gid, now, member, value, notBefore, since = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]

if member == '' then
  if redis.call('EXISTS', groupKey) == 0 then return -1 end
else
  redis.call('HSETNX', groupKey, 'firstAt', since)
  if #ARGV > 6 then redis.call('HSET', groupKey, unpack(ARGV, 7)) end
  redis.call('HSET', membersKey, member, value)
end

local g = redis.call('HMGET', groupKey, 'firstAt', 'flushedAt', 'waitMs', 'intervalMs')
local due
if g[2] then
  due = math.max(now, tonumber(g[2]) + tonumber(g[4] or 0))
else
  due = tonumber(g[1]) + tonumber(g[3] or 0)
end
due = math.max(due, notBefore)
redis.call('ZADD', dueKey, 'LT', due, gid)
return due

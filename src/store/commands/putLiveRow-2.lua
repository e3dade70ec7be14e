--[[
  Puts one row of a live message unless a later state of that row is there already (rows may be written
  out of order by concurrent deliveries), and returns every row.

  Input:
    KEYS[1] rows hash (row id -> text)   KEYS[2] ranks hash (row id -> rank)
    ARGV[1] row id   ARGV[2] row text   ARGV[3] rank   ARGV[4] keep (s)
  Output:
    the text of every row
]]
local rowsKey, ranksKey = KEYS[1], KEYS[2]
local rowId, rowText, rank, keepSeconds = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]

if tonumber(redis.call('HGET', ranksKey, rowId) or '-1') <= rank then
  redis.call('HSET', rowsKey, rowId, rowText)
  redis.call('HSET', ranksKey, rowId, rank)
end
redis.call('EXPIRE', rowsKey, keepSeconds)
redis.call('EXPIRE', ranksKey, keepSeconds)
return redis.call('HVALS', rowsKey)

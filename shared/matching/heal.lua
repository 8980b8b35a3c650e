-- Queue again the tickets marked claimed whose claim record is gone: Redis evicted or lost it, so
-- no worker and no sweep will ever settle that claim. Each call looks at the next `limit` tickets of
-- the expiry index (which holds every ticket) and remembers where it stopped, so successive calls
-- cover the whole queue without blocking Redis for long.
-- KEYS: 1 expiry index
-- ARGV: 1 ticket prefix, 2 class-queue prefix, 3 claim prefix, 4 limit
-- Returns how many tickets were queued again.
local cursor_key = KEYS[1] .. ':heal-cursor'
local offset = tonumber(redis.call('GET', cursor_key) or '0')
local limit = tonumber(ARGV[4])
local uids = redis.call('ZRANGE', KEYS[1], offset, offset + limit - 1)
local healed = 0
for _, uid in ipairs(uids) do
  local ticket = ARGV[1] .. uid
  local t = redis.call('HMGET', ticket, 'pair', 'score', 'g', 'w')
  if t[1] and t[1] ~= '' and redis.call('EXISTS', ARGV[3] .. t[1]) == 0 then
    redis.call('HSET', ticket, 'pair', '')
    redis.call('ZADD', ARGV[2] .. t[3] .. ':' .. t[4], t[2], uid)
    healed = healed + 1
  end
end
if #uids < limit then offset = 0 else offset = offset + limit end
redis.call('SET', cursor_key, offset)
return healed

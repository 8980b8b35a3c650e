-- Queue again the users marked claimed whose claim record is gone: Redis evicted or lost it, so
-- no worker and no sweep will ever settle that claim. Each call looks at the next `limit` tickets of
-- the expiry index (which holds every ticket) and remembers where it stopped, so successive calls
-- cover the whole queue without blocking Redis for long.
-- KEYS: 1 expiry index, 2 claimed users (hash: uid -> pair id)
-- ARGV: 1 ticket prefix, 2 class-queue prefix, 3 claim prefix, 4 limit
-- Returns how many tickets were queued again.
local cursor_key = KEYS[1] .. ':heal-cursor'
local offset = tonumber(redis.call('GET', cursor_key) or '0')
local limit = tonumber(ARGV[4])
local uids = redis.call('ZRANGE', KEYS[1], offset, offset + limit - 1)
local healed = 0
-- In slices: unpack() has a limit.
local pairs_of = {}
for s = 1, #uids, 1000 do
  local slice = redis.call('HMGET', KEYS[2], unpack(uids, s, math.min(s + 999, #uids)))
  for n = 1, #slice do pairs_of[s + n - 1] = slice[n] end
end
for n, uid in ipairs(uids) do
  local pair = pairs_of[n]
  if pair and redis.call('EXISTS', ARGV[3] .. pair) == 0 then
    redis.call('HDEL', KEYS[2], uid)
    local t = redis.call('HMGET', ARGV[1] .. uid, 'score', 'g', 'w', 'exp')
    if t[1] then
      redis.call('ZADD', ARGV[2] .. t[2] .. ':' .. t[3], t[1], uid .. '|' .. t[4])
      healed = healed + 1
    end
  end
end
if #uids < limit then offset = 0 else offset = offset + limit end
redis.call('SET', cursor_key, offset)
return healed

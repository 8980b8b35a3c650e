-- Put a user in the random-matching queue, or refresh their ticket. One atomic step.
-- KEYS: 1 expiry index, 2 claimed users (hash: uid -> pair id)
-- ARGV: 1 ticket prefix, 2 class-queue prefix, 3 uid, 4 mode, 5 place (ms), 6 expiry (ms),
--       7 own gender, 8 wanted gender, 9 priority, 10 grace before Redis drops the hash (ms),
--       11 claim prefix
-- mode 'fresh': a new request (Firestore had no mirror): a new ticket replaces any old one, which may
--   still be claimed by a pair in flight; forgetting that claim here keeps its settling from touching
--   the new ticket.
-- mode 'refresh': the same request again: keep place and claim state; update preferences and expiry.
--   A claim whose record is gone (Redis evicted or lost it) will never be settled: the ticket is
--   queued again instead of waiting for it.
-- A waiting user's class-set member is "{uid}|{expiry}", so pair.lua learns the expiry without
-- touching the ticket (see pair.lua); a refresh replaces the member.
-- Returns {place, state} with state 'queued' or 'claimed'.
local uid = ARGV[3]
local ticket = ARGV[1] .. uid
local old = redis.call('HMGET', ticket, 'score', 'g', 'w', 'exp')
local claimed = redis.call('HGET', KEYS[2], uid)
local score, pair = ARGV[5], false
if old[1] then
  if not claimed then
    -- waiting: leave the old class (preferences may change) and come back below. The plain uid is the
    -- member a ticket written before members carried their expiry has (gone an hour after that rollout).
    redis.call('ZREM', ARGV[2] .. old[2] .. ':' .. old[3], uid .. '|' .. old[4], uid)
  end
  if ARGV[4] == 'refresh' then
    score = old[1]
    if claimed and redis.call('EXISTS', ARGV[11] .. claimed) == 1 then pair = claimed end
  end
end
if claimed and not pair then redis.call('HDEL', KEYS[2], uid) end
redis.call('DEL', ticket)
redis.call('HSET', ticket, 'score', score, 'g', ARGV[7], 'w', ARGV[8], 'exp', ARGV[6], 'prio', ARGV[9])
redis.call('PEXPIREAT', ticket, tonumber(ARGV[6]) + tonumber(ARGV[10]))
redis.call('ZADD', KEYS[1], ARGV[6], uid)
if not pair then
  redis.call('ZADD', ARGV[2] .. ARGV[7] .. ':' .. ARGV[8], score, uid .. '|' .. ARGV[6])
  return {score, 'queued'}
end
return {score, 'claimed'}

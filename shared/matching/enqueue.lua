-- Put a user in the random-matching queue, or refresh their ticket. One atomic step.
-- KEYS: 1 expiry index, 2 claimed users (hash: uid -> pair id)
-- ARGV: 1 ticket prefix, 2 class-queue prefix, 3 uid, 4 mode, 5 new ticket id, 6 place (ms),
--       7 expiry (ms), 8 own gender, 9 wanted gender, 10 priority, 11 grace before Redis drops the hash (ms),
--       12 claim prefix
-- mode 'fresh': a new request (Firestore had no mirror): a new ticket replaces any old one, which may
--   still be claimed by a pair in flight; forgetting that claim here keeps its settling from touching
--   the new ticket.
-- mode 'refresh': the same request again: keep id, place and claim state; update preferences and expiry.
--   A claim whose record is gone (Redis evicted or lost it) will never be settled: the ticket is
--   queued again instead of waiting for it.
-- A waiting user's class-set member is "{uid}|{expiry}", so pair.lua learns the expiry without
-- touching the ticket (see pair.lua); a refresh replaces the member.
-- Returns {ticket id, place, state} with state 'queued' or 'claimed'.
local uid = ARGV[3]
local ticket = ARGV[1] .. uid
local old = redis.call('HMGET', ticket, 'id', 'score', 'g', 'w', 'exp')
local claimed = redis.call('HGET', KEYS[2], uid)
local id, score, pair = ARGV[5], ARGV[6], false
if old[1] then
  if not claimed then
    -- waiting: leave the old class (preferences may change) and come back below. The plain uid is the
    -- member a ticket written before members carried their expiry has (gone an hour after that rollout).
    redis.call('ZREM', ARGV[2] .. old[3] .. ':' .. old[4], uid .. '|' .. old[5], uid)
  end
  if ARGV[4] == 'refresh' then
    id, score = old[1], old[2]
    if claimed and redis.call('EXISTS', ARGV[12] .. claimed) == 1 then pair = claimed end
  end
end
if claimed and not pair then redis.call('HDEL', KEYS[2], uid) end
redis.call('DEL', ticket)
redis.call('HSET', ticket, 'id', id, 'score', score, 'g', ARGV[8], 'w', ARGV[9], 'exp', ARGV[7],
  'prio', ARGV[10])
redis.call('PEXPIREAT', ticket, tonumber(ARGV[7]) + tonumber(ARGV[11]))
redis.call('ZADD', KEYS[1], ARGV[7], uid)
if not pair then
  redis.call('ZADD', ARGV[2] .. ARGV[8] .. ':' .. ARGV[9], score, uid .. '|' .. ARGV[7])
  return {id, score, 'queued'}
end
return {id, score, 'claimed'}

-- Put a user in the random-matching queue, or refresh their ticket. One atomic step.
-- KEYS: 1 expiry index
-- ARGV: 1 ticket prefix, 2 class-queue prefix, 3 uid, 4 mode, 5 new ticket id, 6 place (ms),
--       7 expiry (ms), 8 own gender, 9 wanted gender, 10 priority, 11 grace before Redis drops the hash (ms),
--       12 claim prefix
-- mode 'fresh': a new request (Firestore had no mirror): a new ticket replaces any old one, which may
--   still be claimed by a pair in flight; the new id keeps that claim from deleting the new ticket.
-- mode 'refresh': the same request again: keep id, place and claim state; update preferences and expiry.
--   A claim whose record is gone (Redis evicted or lost it) will never be settled: the ticket is
--   queued again instead of waiting for it.
-- Returns {ticket id, place, state} with state 'queued' or 'claimed'.
local uid = ARGV[3]
local ticket = ARGV[1] .. uid
local old = redis.call('HMGET', ticket, 'id', 'score', 'g', 'w', 'pair')
local id, score, pair = ARGV[5], ARGV[6], ''
if old[1] then
  if old[5] == '' then
    -- waiting: leave the old class index (preferences may change) and come back below
    redis.call('ZREM', ARGV[2] .. old[3] .. ':' .. old[4], uid)
  end
  if ARGV[4] == 'refresh' then
    id, score, pair = old[1], old[2], old[5]
    if pair ~= '' and redis.call('EXISTS', ARGV[12] .. pair) == 0 then
      pair = ''
    end
  end
end
redis.call('DEL', ticket)
redis.call('HSET', ticket, 'id', id, 'score', score, 'g', ARGV[8], 'w', ARGV[9], 'exp', ARGV[7],
  'prio', ARGV[10], 'pair', pair)
redis.call('PEXPIREAT', ticket, tonumber(ARGV[7]) + tonumber(ARGV[11]))
redis.call('ZADD', KEYS[1], ARGV[7], uid)
if pair == '' then
  redis.call('ZADD', ARGV[2] .. ARGV[8] .. ':' .. ARGV[9], score, uid)
  return {id, score, 'queued'}
end
return {id, score, 'claimed'}

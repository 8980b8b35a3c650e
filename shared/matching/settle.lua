-- Settle a claimed pair. Per user: 'keep' = they got their room, so their ticket is spent;
-- 'requeue' = put them back at their original place; 'drop' = their request is void.
-- A user is touched only while the claimed-users hash still names this pair for them: a new request
-- (enqueue 'fresh') or leaving the queue forgets the claim, and the new request has its own life.
-- KEYS: 1 claims index, 2 expiry index, 3 claimed users (hash: uid -> pair id)
-- ARGV: 1 ticket prefix, 2 class-queue prefix, 3 claim prefix, 4 pair id, 5 action a, 6 action b
-- Returns {requeued count, spent-or-dropped count}; {-1, -1} when the claim was already settled.
local claim_key = ARGV[3] .. ARGV[4]
local c = redis.call('HMGET', claim_key, 'a', 'b', 'sa', 'sb')
if not c[1] then
  redis.call('ZREM', KEYS[1], ARGV[4])
  return {-1, -1}
end
local requeued, removed = 0, 0
local members = {{c[1], c[3], ARGV[5]}, {c[2], c[4], ARGV[6]}}
for _, m in ipairs(members) do
  local uid, place, action = m[1], m[2], m[3]
  local ticket = ARGV[1] .. uid
  if redis.call('HGET', KEYS[3], uid) == ARGV[4] then
    redis.call('HDEL', KEYS[3], uid)
    if action == 'requeue' then
      local t = redis.call('HMGET', ticket, 'g', 'w', 'exp')
      if t[1] then
        redis.call('ZADD', ARGV[2] .. t[1] .. ':' .. t[2], place, uid .. '|' .. t[3])
        requeued = requeued + 1
      end
    else
      redis.call('DEL', ticket)
      redis.call('ZREM', KEYS[2], uid)
      removed = removed + 1
    end
  end
end
redis.call('DEL', claim_key)
redis.call('ZREM', KEYS[1], ARGV[4])
return {requeued, removed}

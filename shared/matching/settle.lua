-- Settle a claimed pair. Per user: 'keep' = they got their room, so their ticket is spent;
-- 'requeue' = put them back at their original place; 'drop' = their request is void.
-- A ticket is touched only if it is still the one the claim took (a newer request has its own life).
-- KEYS: 1 claims index, 2 expiry index
-- ARGV: 1 ticket prefix, 2 class-queue prefix, 3 claim prefix, 4 pair id, 5 action a, 6 action b
-- Returns {requeued count, spent-or-dropped count}; {-1, -1} when the claim was already settled.
local claim_key = ARGV[3] .. ARGV[4]
local c = redis.call('HMGET', claim_key, 'a', 'b', 'ta', 'tb', 'sa', 'sb')
if not c[1] then
  redis.call('ZREM', KEYS[1], ARGV[4])
  return {-1, -1}
end
local requeued, removed = 0, 0
local members = {{c[1], c[3], c[5], ARGV[5]}, {c[2], c[4], c[6], ARGV[6]}}
for _, m in ipairs(members) do
  local uid, ticket_id, place, action = m[1], m[2], m[3], m[4]
  local ticket = ARGV[1] .. uid
  local t = redis.call('HMGET', ticket, 'id', 'pair', 'g', 'w')
  if t[1] == ticket_id and t[2] == ARGV[4] then
    if action == 'requeue' then
      redis.call('HSET', ticket, 'pair', '')
      redis.call('ZADD', ARGV[2] .. t[3] .. ':' .. t[4], place, uid)
      requeued = requeued + 1
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

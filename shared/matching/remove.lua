-- Take a user out of matching in Redis: class queue entry, ticket, expiry entry, claim mark. Idempotent.
-- A claim in flight keeps its record; without the claim mark it can no longer requeue this user.
-- KEYS: 1 expiry index, 2 claimed users (hash: uid -> pair id), 3.. every class set
--       (shared/matching/model.py class_queues)
-- ARGV: 1 ticket prefix, 2 class-queue prefix, 3 uid, 4 only if expired at or before (ms), or '' for always
-- Returns 1 if anything was removed, 0 otherwise, -1 if the ticket was refreshed and is not expired.
local uid = ARGV[3]
local ticket = ARGV[1] .. uid
local t = redis.call('HMGET', ticket, 'g', 'w', 'exp')
if ARGV[4] ~= '' and t[3] and tonumber(t[3]) > tonumber(ARGV[4]) then
  return -1
end
-- The class member is "{uid}|{expiry}"; the expiry index holds the same expiry when the hash is gone.
-- The plain uid is a member written before members carried their expiry.
local expiry = t[3] or redis.call('ZSCORE', KEYS[1], uid) or ''
local removed = redis.call('ZREM', KEYS[1], uid)
redis.call('HDEL', KEYS[2], uid)
if t[1] then
  removed = removed + redis.call('ZREM', ARGV[2] .. t[1] .. ':' .. t[2], uid .. '|' .. expiry, uid)
    + redis.call('DEL', ticket)
elseif removed > 0 then
  -- Still indexed but the hash is gone: Redis dropped it at its own expiry, so the sweep missed the
  -- ticket for longer than its grace, and the class entry is unknown: look in every class (rare).
  for i = 3, #KEYS do redis.call('ZREM', KEYS[i], uid .. '|' .. expiry, uid) end
end
if removed > 0 then return 1 end
return 0

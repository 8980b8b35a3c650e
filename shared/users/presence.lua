-- Heartbeat in Redis: refresh the presence key and decide whether Firestore needs a write.
-- KEYS: 1 presence key, 2 synced key (status last written to Firestore, TTL = coalescing window),
--       3 presence epoch (when this Redis started holding presence, by its own clock, in ms; set once)
-- ARGV: 1 requested status ('online'|'offline'), 2 presence TTL (s), 3 coalescing window (s)
-- 'online' does not override 'in_call' or 'matching': those are set by the server, not the client.
-- Returns {effective status, 1 if Firestore should be written else 0}.
if redis.call('EXISTS', KEYS[3]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[3], t[1] * 1000 + math.floor(t[2] / 1000), 'NX')
end
local current = redis.call('GET', KEYS[1])
local effective = ARGV[1]
if effective == 'online' and (current == 'in_call' or current == 'matching') then
  effective = current
end
redis.call('SET', KEYS[1], effective, 'EX', ARGV[2])
if redis.call('GET', KEYS[2]) == effective then
  return {effective, 0}
end
redis.call('SET', KEYS[2], effective, 'EX', ARGV[3])
return {effective, 1}

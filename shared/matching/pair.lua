-- Take up to #pair-ids compatible pairs off the queue, oldest first, and claim them. One atomic step,
-- so two workers can never take the same user.
-- KEYS: 1 queue, 2 claims index
-- ARGV: 1 ticket prefix, 2 class-queue prefix, 3 claim prefix, 4 now (ms), 5 claim deadline (ms),
--       6.. one fresh pair id per pair wanted
-- Returns a flat list: pair id, uid a, uid b, place a, place b, ... (a is the older of the two).
--
-- Waiting users are indexed by class (own gender x wanted gender): 4 x 4 sorted sets. Within a class
-- everyone accepts and is accepted by the same classes, so the oldest user who has any partner is the
-- oldest head among classes with a compatible non-empty class, and their partner is the oldest head
-- among those classes. A pair costs O(classes^2) comparisons, however many incompatible users wait
-- at the front of the queue.
local GENDERS = {'male', 'female', 'other', 'none'}
local WANTS = {'male', 'female', 'other', 'any'}
local now = tonumber(ARGV[4])
local classes = {}
for _, g in ipairs(GENDERS) do
  for _, w in ipairs(WANTS) do
    classes[#classes + 1] = {g = g, w = w, key = ARGV[2] .. g .. ':' .. w}
  end
end
local function accepts(want, gender) return want == 'any' or want == gender end
local compat = {}
for i, a in ipairs(classes) do
  compat[i] = {}
  for j, b in ipairs(classes) do
    compat[i][j] = accepts(a.w, b.g) and accepts(b.w, a.g)
  end
end

-- heads[i]: up to two valid {uid, place} at the front of class i. Entries whose ticket is gone,
-- expired or claimed are dropped from the queue on the way (the expiry sweep settles Firestore).
local heads = {}
local function load(i)
  local c = classes[i]
  local out = {}
  while #out < 2 do
    local r = redis.call('ZRANGE', c.key, #out, #out, 'WITHSCORES')
    if #r == 0 then break end
    local uid = r[1]
    local t = redis.call('HMGET', ARGV[1] .. uid, 'exp', 'pair', 'g', 'w')
    if t[1] and t[2] == '' and tonumber(t[1]) > now and t[3] == c.g and t[4] == c.w then
      out[#out + 1] = {uid, tonumber(r[2])}
    else
      redis.call('ZREM', c.key, uid)
      if not t[1] or t[2] ~= '' or tonumber(t[1]) <= now then
        redis.call('ZREM', KEYS[1], uid)
      end
    end
  end
  heads[i] = out
end
for i = 1, #classes do load(i) end

local function has_partner(i)
  for j = 1, #classes do
    if compat[i][j] and ((j ~= i and #heads[j] > 0) or (j == i and #heads[i] > 1)) then return true end
  end
  return false
end

local result = {}
for k = 6, #ARGV do
  local ai, a_place = nil, nil
  for i = 1, #classes do
    local h = heads[i][1]
    if h and (a_place == nil or h[2] < a_place) and has_partner(i) then ai, a_place = i, h[2] end
  end
  if not ai then break end
  local bi, b_idx, b_place = nil, nil, nil
  for j = 1, #classes do
    if compat[ai][j] then
      local idx = (j == ai) and 2 or 1
      local e = heads[j][idx]
      if e and (b_place == nil or e[2] < b_place) then bi, b_idx, b_place = j, idx, e[2] end
    end
  end
  local a, b = heads[ai][1], heads[bi][b_idx]
  local pair_id = ARGV[k]
  local ids = {}
  for n, member in ipairs({{a, ai}, {b, bi}}) do
    local uid = member[1][1]
    redis.call('ZREM', classes[member[2]].key, uid)
    redis.call('ZREM', KEYS[1], uid)
    redis.call('HSET', ARGV[1] .. uid, 'pair', pair_id)
    ids[n] = redis.call('HGET', ARGV[1] .. uid, 'id')
  end
  redis.call('HSET', ARGV[3] .. pair_id, 'a', a[1], 'b', b[1], 'ta', ids[1], 'tb', ids[2],
    'sa', a[2], 'sb', b[2], 'at', ARGV[4])
  redis.call('ZADD', KEYS[2], ARGV[5], pair_id)
  for _, v in ipairs({pair_id, a[1], b[1], tostring(a[2]), tostring(b[2])}) do result[#result + 1] = v end
  load(ai)
  if bi ~= ai then load(bi) end
end
return result

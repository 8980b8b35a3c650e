-- Take up to #pair-ids compatible pairs off the queue, oldest first, and claim them. One atomic step,
-- so two workers can never take the same user.
-- KEYS: 1 queue, 2 claims index
-- ARGV: 1 ticket prefix, 2 class-queue prefix, 3 claim prefix, 4 now (ms), 5 claim deadline (ms),
--       6 block-set prefix, 7.. one fresh pair id per pair wanted
-- Returns a flat list: pair id, uid a, uid b, place a, place b, ... (a is the older of the two).
--
-- Waiting users are indexed by class (own gender x wanted gender): 4 x 4 sorted sets. Within a class
-- everyone accepts and is accepted by the same classes, so the oldest user who has any partner is the
-- oldest head among classes with a compatible non-empty class, and their partner is the oldest head
-- among those classes. A pair costs a few commands however many incompatible users wait at the front.
--
-- Blocks: `blocks:{uid}` holds everyone uid blocked or was blocked by (shared/account/blocks.py keeps
-- both directions in both users' sets; the room transaction writes back any block a set missed). The partner
-- of `a` is the oldest compatible entry not blocked with `a`: a class whose first entries are all
-- blocked is searched WINDOW entries deep, and a user with no unblocked partner within that window
-- stays in the queue, skipped for the rest of this call (at most MAX_SKIPS users, so one call does
-- bounded work). A pair blocked in these sets is therefore never claimed, and nobody is dropped for being blocked.
local WINDOW = 8
local MAX_SKIPS = 16
local GENDERS = {'male', 'female', 'other', 'none'}
local WANTS = {'male', 'female', 'other', 'any'}
-- COMPATIBLE[i]: the classes that accept class i and that class i accepts (want 'any' or the other's
-- gender, both ways), classes numbered gender-major in the order above. tests/test_matching.py checks
-- every pair of classes against shared/matching/model.py's compatible().
local COMPATIBLE = {
  {1, 4}, {5, 8}, {9, 12}, {1, 4, 5, 8, 9, 12, 13, 16},                -- male / male, female, other, any
  {2, 4}, {6, 8}, {10, 12}, {2, 4, 6, 8, 10, 12, 14, 16},              -- female / ...
  {3, 4}, {7, 8}, {11, 12}, {3, 4, 7, 8, 11, 12, 15, 16},              -- other / ...
  {4}, {8}, {12}, {4, 8, 12, 16},                                      -- none (no gender) / ...
}
local now = tonumber(ARGV[4])
local keys_of, class_g, class_w = {}, {}, {}
for gi, g in ipairs(GENDERS) do
  for wi, w in ipairs(WANTS) do
    local i = (gi - 1) * 4 + wi
    keys_of[i], class_g[i], class_w[i] = ARGV[2] .. g .. ':' .. w, g, w
  end
end

-- Users skipped in this call (no unblocked partner within reach), and how many per class.
local skipped, skipped_in, skips = {}, {}, 0
for i = 1, 16 do skipped_in[i] = 0 end

-- The first `n` {uid, place} of class i that are not skipped, and whether the class may hold more.
local function first(i, n)
  local want = n + skipped_in[i]
  local r = redis.call('ZRANGE', keys_of[i], 0, want - 1, 'WITHSCORES')
  local h = {}
  for m = 1, #r, 2 do
    if not skipped[r[m]] and #h < n then h[#h + 1] = {r[m], tonumber(r[m + 1])} end
  end
  return h, #r == 2 * want
end

-- heads[i]: the oldest DEPTH {uid, place} of class i, not yet validated against their tickets;
-- more[i]: whether the class holds entries beyond them. A claimed pair is taken out of the loaded
-- heads, so a class is read again only once fewer than two heads are left (a partner for its own
-- head needs two): a few ZRANGEs per call instead of one or two per pair.
local DEPTH = math.min(2 + (#ARGV - 6), 8)
local heads, more = {}, {}
local function load(i) heads[i], more[i] = first(i, DEPTH) end
for i = 1, 16 do load(i) end

local function take(i, uid)
  for m, e in ipairs(heads[i]) do
    if e[1] == uid then
      table.remove(heads[i], m)
      break
    end
  end
  if #heads[i] < 2 and more[i] then load(i) end
end

local function blocked(a, b)
  return redis.call('SISMEMBER', ARGV[6] .. a, b) == 1 or redis.call('SISMEMBER', ARGV[6] .. b, a) == 1
end

-- The oldest entry of class j that is not `a` and not blocked with `a`: its loaded heads first,
-- then (only when all of them were blocked) WINDOW entries deep.
local function unblocked_in(j, a)
  for _, e in ipairs(heads[j]) do
    if e[1] ~= a and not blocked(a, e[1]) then return e end
  end
  if not more[j] then return nil end
  for _, e in ipairs(first(j, WINDOW + 1)) do
    if e[1] ~= a and not blocked(a, e[1]) then return e end
  end
  return nil
end

-- The ticket of a chosen user, or nil after dropping a stale entry (ticket gone, expired, claimed,
-- or of another class) from the queue; the expiry sweep settles Firestore for expired ones.
local function ticket_id(i, uid)
  local t = redis.call('HMGET', ARGV[1] .. uid, 'exp', 'pair', 'g', 'w', 'id')
  if t[1] and t[2] == '' and tonumber(t[1]) > now and t[3] == class_g[i] and t[4] == class_w[i] then
    return t[5]
  end
  redis.call('ZREM', keys_of[i], uid)
  if not t[1] or t[2] ~= '' or tonumber(t[1]) <= now then redis.call('ZREM', KEYS[1], uid) end
  load(i)
  return nil
end

-- The partner of `a` (of class ai): the oldest compatible entry not blocked with `a`. Usually the
-- oldest compatible head is not blocked, which costs one check (two SISMEMBERs); only when it is,
-- every compatible class is searched (unblocked_in), so the choice is still the oldest unblocked.
local function partner_of(ai, a)
  local best, bj = nil, nil
  for _, j in ipairs(COMPATIBLE[ai]) do
    for _, e in ipairs(heads[j]) do
      if e[1] ~= a then
        if best == nil or e[2] < best[2] then best, bj = e, j end
        break
      end
    end
  end
  if best == nil or not blocked(a, best[1]) then return best, bj end
  best, bj = nil, nil
  for _, j in ipairs(COMPATIBLE[ai]) do
    local e = unblocked_in(j, a)
    if e and (best == nil or e[2] < best[2]) then best, bj = e, j end
  end
  return best, bj
end

local function has_partner(i)
  for _, j in ipairs(COMPATIBLE[i]) do
    if (j ~= i and heads[j][1]) or (j == i and heads[i][2]) then return true end
  end
  return false
end

local result = {}
local k = 7
while k <= #ARGV do
  local ai, a_place = nil, nil
  for i = 1, 16 do
    local h = heads[i][1]
    if h and (a_place == nil or h[2] < a_place) and has_partner(i) then ai, a_place = i, h[2] end
  end
  if not ai then break end
  local a = heads[ai][1]
  local b, bi = partner_of(ai, a[1])
  if not b then
    -- Blocked with everyone within reach: a waits (in place) for a later call.
    if skips >= MAX_SKIPS then break end
    skipped[a[1]] = true
    skipped_in[ai] = skipped_in[ai] + 1
    skips = skips + 1
    load(ai)
  end
  local ta = b and ticket_id(ai, a[1])
  local tb = ta and ticket_id(bi, b[1])
  if ta and tb then
    local pair_id = ARGV[k]
    k = k + 1
    redis.call('ZREM', KEYS[1], a[1], b[1])
    if ai == bi then
      redis.call('ZREM', keys_of[ai], a[1], b[1])
    else
      redis.call('ZREM', keys_of[ai], a[1])
      redis.call('ZREM', keys_of[bi], b[1])
    end
    redis.call('HSET', ARGV[1] .. a[1], 'pair', pair_id)
    redis.call('HSET', ARGV[1] .. b[1], 'pair', pair_id)
    redis.call('HSET', ARGV[3] .. pair_id, 'a', a[1], 'b', b[1], 'ta', ta, 'tb', tb,
      'sa', a[2], 'sb', b[2], 'at', ARGV[4])
    redis.call('ZADD', KEYS[2], ARGV[5], pair_id)
    local n = #result
    result[n + 1], result[n + 2], result[n + 3] = pair_id, a[1], b[1]
    result[n + 4], result[n + 5] = tostring(a[2]), tostring(b[2])
    take(ai, a[1])
    take(bi, b[1])
  end
  -- else: a stale entry was dropped and its class reloaded, or a was skipped; choose again
end
return result

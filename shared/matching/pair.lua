-- Take up to #pair-ids compatible pairs off the queue, oldest first, and claim them. One atomic step,
-- so two workers can never take the same user.
-- KEYS: 1 claims index, 2 claimed users (hash: uid -> pair id)
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
-- both directions in both users' sets; the room transaction writes back any block a set missed). The
-- partner of `a` is the oldest compatible entry not blocked with `a`: a class whose first entries are
-- all blocked is searched WINDOW entries deep, and a user with no unblocked partner within that window
-- stays in the queue, skipped for the rest of this call (at most MAX_SKIPS users, so one call does
-- bounded work). A pair blocked in these sets is therefore never claimed, and nobody is dropped for
-- being blocked.
--
-- Cost: a pair is a handful of commands (two hash writes: the claim record and both users' claim
-- marks, one block check of two SISMEMBERs), and it touches neither ticket: a class member is
-- "{uid}|{expiry}", so whether a waiting user is still current is read from the member itself (a
-- user is in a class set only while their ticket is unclaimed and of that class: enqueue, settle,
-- heal and remove keep it so). Reading and marking 10,000 scattered tickets was a sixth of this
-- script's time (docs/bench/matching.md). Each class set is read once, front to back in chunks,
-- into memory; the sets themselves are not changed until the end of the call, when the users leaving
-- a class leave it in one ZREM and the claims enter their index in one ZADD.
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
local ticket_prefix, block_prefix = ARGV[1], ARGV[6]
local keys_of, class_g, class_w = {}, {}, {}
for gi, g in ipairs(GENDERS) do
  for wi, w in ipairs(WANTS) do
    local i = (gi - 1) * 4 + wi
    keys_of[i], class_g[i], class_w[i] = ARGV[2] .. g .. ':' .. w, g, w
  end
end

-- queued[i]: the entries of class i read so far that are still candidates in this call, oldest
-- first, each {uid, place (number), place (as Redis wrote it), member, expiry (ms)}; read[i]: how
-- many entries of the class set were read; ended[i]: whether the set has no more. Users taken,
-- skipped or found stale leave queued[i] (the set keeps them until the end of the call), so nobody
-- is read twice; leaving[i]: the members (claimed or stale) to take out of class i's set at the end
-- of the call.
local queued, read, ended, leaving = {}, {}, {}, {}
local CHUNK = math.min(2 + (#ARGV - 6), 8)

-- The expiry of a member written before members carried it (a plain uid): read from its ticket,
-- 0 (stale) unless the ticket is waiting in this class. Only such members pay a ticket read.
local function legacy_expiry(i, uid)
  local t = redis.call('HMGET', ticket_prefix .. uid, 'exp', 'g', 'w', 'pair')
  if t[1] and t[2] == class_g[i] and t[3] == class_w[i] and (not t[4] or t[4] == '') then
    return tonumber(t[1])
  end
  return 0
end

-- Make queued[i] hold at least n entries, if the class has that many left.
local function ensure(i, n)
  local q = queued[i]
  while #q < n and not ended[i] do
    local want = math.max(n - #q, CHUNK)
    local r = redis.call('ZRANGE', keys_of[i], read[i], read[i] + want - 1, 'WITHSCORES')
    for m = 1, #r, 2 do
      local member = r[m]
      local bar = string.find(member, '|', 1, true)
      if bar then
        local uid = string.sub(member, 1, bar - 1)
        q[#q + 1] = {uid, tonumber(r[m + 1]), r[m + 1], member, tonumber(string.sub(member, bar + 1))}
      else
        q[#q + 1] = {member, tonumber(r[m + 1]), r[m + 1], member, legacy_expiry(i, member)}
      end
    end
    read[i] = read[i] + #r / 2
    ended[i] = #r < 2 * want
  end
end

-- Take uid out of class i's candidates; it leaves the class set at the end of the call if `remove`.
local function drop(i, uid, remove)
  local q = queued[i]
  for m = 1, #q do
    if q[m][1] == uid then
      if remove then leaving[i][#leaving[i] + 1] = q[m][4] end
      table.remove(q, m)
      break
    end
  end
  ensure(i, 2)
end

for i = 1, 16 do
  queued[i], read[i], ended[i], leaving[i] = {}, 0, false, {}
  ensure(i, 2)
end

local function blocked(a, b)
  return redis.call('SISMEMBER', block_prefix .. a, b) == 1 or redis.call('SISMEMBER', block_prefix .. b, a) == 1
end

-- The oldest entry of class j within WINDOW + 1 candidates that is not `a` and not blocked with `a`.
local function unblocked_in(j, a)
  ensure(j, WINDOW + 1)
  local q = queued[j]
  for m = 1, math.min(#q, WINDOW + 1) do
    local e = q[m]
    if e[1] ~= a and not blocked(a, e[1]) then return e end
  end
  return nil
end

-- Whether a chosen entry is current; an expired one (or a malformed member) leaves the class set,
-- and the expiry sweep settles Firestore for it.
local function current(i, e)
  if e[5] and e[5] > now then return true end
  drop(i, e[1], true)
  return false
end

-- The partner of `a` (the head of class ai): the oldest compatible entry not blocked with `a`.
-- Usually the oldest compatible head is not blocked, which costs one check; only when it is, every
-- compatible class is searched (unblocked_in), so the choice is still the oldest unblocked.
local function partner_of(ai, a)
  local best, bj = nil, nil
  for _, j in ipairs(COMPATIBLE[ai]) do
    local e = queued[j][j == ai and 2 or 1]
    if e and (best == nil or e[2] < best[2]) then best, bj = e, j end
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
    if queued[j][j == i and 2 or 1] then return true end
  end
  return false
end

local result, claims, skips = {}, {}, 0
local k = 7
while k <= #ARGV do
  local ai, a_place = nil, nil
  for i = 1, 16 do
    local h = queued[i][1]
    if h and (a_place == nil or h[2] < a_place) and has_partner(i) then ai, a_place = i, h[2] end
  end
  if not ai then break end
  local a = queued[ai][1]
  local b, bi = partner_of(ai, a[1])
  if not b then
    -- Blocked with everyone within reach: a waits (in place) for a later call.
    if skips >= MAX_SKIPS then break end
    skips = skips + 1
    drop(ai, a[1], false)
  end
  if b and current(ai, a) and current(bi, b) then
    local pair_id = ARGV[k]
    k = k + 1
    redis.call('HSET', KEYS[2], a[1], pair_id, b[1], pair_id)
    redis.call('HSET', ARGV[3] .. pair_id, 'a', a[1], 'b', b[1], 'sa', a[3], 'sb', b[3], 'at', ARGV[4])
    claims[#claims + 1], claims[#claims + 2] = ARGV[5], pair_id
    local n = #result
    result[n + 1], result[n + 2], result[n + 3], result[n + 4], result[n + 5] = pair_id, a[1], b[1], a[3], b[3]
    drop(ai, a[1], true)
    drop(bi, b[1], true)
  end
  -- else: a stale entry was dropped, or a was skipped; choose again
end
-- In slices: unpack() has a limit, and stale entries dropped in one call are not bounded by the pairs.
for i = 1, 16 do
  local gone = leaving[i]
  for s = 1, #gone, 1000 do redis.call('ZREM', keys_of[i], unpack(gone, s, math.min(s + 999, #gone))) end
end
for s = 1, #claims, 1000 do redis.call('ZADD', KEYS[1], unpack(claims, s, math.min(s + 999, #claims))) end
return result

import { RedisScript } from "./redis-script.js";

/**
 * The Lua side. Each decision is one script on one account's keys (one Cluster slot), so concurrent callers in any
 * number of processes see each other's grants: nothing is checked in one round trip and taken in another.
 *
 * Limits travel as fixed-size ARGV groups, their keys in the same order in KEYS:
 *   rolling: kind 'r', allowed, units, windowMs, resolutionMs   keys: times (zset), units (hash)
 *   daily:   kind 'd', allowed, units, msToMidnight, 0            keys: counter
 * Concurrency caps: maxConcurrent, leaseMs, retryAfterMs; key: the lease zset.
 */

export const LIMIT_ARGS = 5;
export const CAP_ARGS = 3;

// Clock: the caller's when given (tests), else Redis's own. One clock for every process on every machine: callers'
// clocks disagree by milliseconds and scripts arrive out of order, and a grant stamped in the past would land in a
// window another caller already trimmed.
//
// A rolling window keeps one zset member per time bucket (score = the bucket's end) and the bucket's units in a hash,
// with the live sum in the hash's `total` field: checking is O(expired buckets), not O(grants in the window).
const HELPERS = `
local function clock(given)
  local n = tonumber(given)
  if n then return n end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function num(v) return tonumber(v) or 0 end

-- Drops the buckets that left the window and returns the units still in it.
local function trim(times, units, now, windowMs)
  local expired = redis.call('ZRANGEBYSCORE', times, '-inf', now - windowMs)
  if #expired == 0 then return math.max(0, num(redis.call('HGET', units, 'total'))) end
  local freed = 0
  for i = 1, #expired, 500 do
    local chunk = {}
    for j = i, math.min(i + 499, #expired) do chunk[#chunk + 1] = expired[j] end
    for _, v in ipairs(redis.call('HMGET', units, unpack(chunk))) do freed = freed + num(v) end
    redis.call('HDEL', units, unpack(chunk))
  end
  redis.call('ZREMRANGEBYSCORE', times, '-inf', now - windowMs)
  return math.max(0, redis.call('HINCRBY', units, 'total', -freed))
end

-- The time of the bucket whose leaving frees 'needed' units, oldest first: the exact retry time of a rolling window.
local function frees_at(times, units, needed)
  local freed, start = 0, 0
  while true do
    local batch = redis.call('ZRANGE', times, start, start + 99, 'WITHSCORES')
    if #batch == 0 then return nil end
    for i = 1, #batch, 2 do
      freed = freed + num(redis.call('HGET', units, batch[i]))
      if freed >= needed then return tonumber(batch[i + 1]) end
    end
    start = start + 100
  end
end

-- Stamps 'amount' units at the end of the bucket holding 'at': a grant leaves the window up to a bucket late, never early.
local function add_units(times, units, now, at, amount, windowMs, res)
  local bucket = math.ceil(at / res) * res
  local member = string.format('%d', bucket)
  redis.call('ZADD', times, bucket, member)
  redis.call('HINCRBY', units, member, amount)
  redis.call('HINCRBY', units, 'total', amount)
  -- Both keys live until the newest bucket leaves the window: an idle account leaves nothing behind.
  local ttl = bucket + windowMs - now
  if ttl < 1 then ttl = 1 end
  if redis.call('PTTL', times) < ttl then
    redis.call('PEXPIRE', times, ttl)
    redis.call('PEXPIRE', units, ttl)
  end
end

local function add_daily(counter, amount, msToMidnight)
  redis.call('INCRBY', counter, amount)
  -- an hour past midnight, so a caller whose clock is a little late still finds the day's count
  redis.call('PEXPIRE', counter, msToMidnight + 3600000)
end
`;

// KEYS: pause, then each limit's keys, then each cap's lease set.
// ARGV: now, leaseToken, nLimits, nCaps, the limit groups, the cap groups.
// Granted: {1, now}. Refused: {0, index, retryAfterMs, pauseReason} with index 0 = paused, 1..nLimits = that limit,
// nLimits + j = cap j. Every limit is checked before anything is taken (all or none), and the refusal names the one
// that frees up last: retrying earlier would only be refused again.
export const ACQUIRE = new RedisScript(`${HELPERS}
local now = clock(ARGV[1])
local token = ARGV[2]
local nLimits, nCaps = tonumber(ARGV[3]), tonumber(ARGV[4])
local refusedBy, wait = -1, 0
local function refuse(index, ms)
  if ms < 1 then ms = 1 end
  if ms > wait then refusedBy, wait = index, ms end
end

local pausedUntil = num(redis.call('HGET', KEYS[1], 'until'))
if pausedUntil > now then refuse(0, pausedUntil - now) end

local k, a = 2, 5
for i = 1, nLimits do
  local kind, allowed, amount, span = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  if kind == 'r' then
    local used = trim(KEYS[k], KEYS[k + 1], now, span)
    if amount > 0 and used + amount > allowed then
      local at = frees_at(KEYS[k], KEYS[k + 1], used + amount - allowed)
      refuse(i, at and (at + span - now) or span)
    end
    k = k + 2
  else
    if amount > 0 and num(redis.call('GET', KEYS[k])) + amount > allowed then refuse(i, span) end
    k = k + 1
  end
  a = a + ${LIMIT_ARGS}
end

for j = 1, nCaps do
  local leases, maxConcurrent, hint = KEYS[k], tonumber(ARGV[a]), tonumber(ARGV[a + 2])
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
  if redis.call('ZCARD', leases) >= maxConcurrent then
    local oldest = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
    local lapses = oldest[2] and (tonumber(oldest[2]) - now) or hint
    refuse(nLimits + j, math.min(lapses, hint))
  end
  k, a = k + 1, a + ${CAP_ARGS}
end

if refusedBy >= 0 then
  local reason = ''
  if refusedBy == 0 then reason = redis.call('HGET', KEYS[1], 'reason') or '' end
  return {0, refusedBy, wait, reason}
end

k, a = 2, 5
for i = 1, nLimits do
  local kind, amount, span, res = ARGV[a], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  if kind == 'r' then
    if amount > 0 then add_units(KEYS[k], KEYS[k + 1], now, now, amount, span, res) end
    k = k + 2
  else
    if amount > 0 then add_daily(KEYS[k], amount, span) end
    k = k + 1
  end
  a = a + ${LIMIT_ARGS}
end
for j = 1, nCaps do
  local leaseMs = tonumber(ARGV[a + 1])
  redis.call('ZADD', KEYS[k], now + leaseMs, token)
  if redis.call('PTTL', KEYS[k]) < leaseMs then redis.call('PEXPIRE', KEYS[k], leaseMs) end
  k, a = k + 1, a + ${CAP_ARGS}
end
return {1, now}
`);

// KEYS: the lease sets the token is in. ARGV: token.
export const RELEASE = new RedisScript(`
for _, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[1]) end
return 1
`);

// KEYS: pause. ARGV: now, ms, reason. Moves the pause forward, never back: a short pause never ends a long one early.
export const PAUSE = new RedisScript(`${HELPERS}
local now = clock(ARGV[1])
local untilMs = now + tonumber(ARGV[2])
if untilMs > num(redis.call('HGET', KEYS[1], 'until')) then
  redis.call('HSET', KEYS[1], 'until', untilMs, 'reason', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
return 1
`);

// KEYS: the limit's keys. ARGV: now, one limit group (its units field unused), crmUsed, crmRemaining, resetInMs (-1 = unknown).
// Raises our count to what the CRM counted (calls other tools made, or ours we did not see), never lowers it.
// Returns the units added.
export const OBSERVE = new RedisScript(`${HELPERS}
local now = clock(ARGV[1])
local kind, allowed, span, res = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[5]), tonumber(ARGV[6])
local crmUsed, crmRemaining, resetInMs = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])

local used
if kind == 'r' then used = trim(KEYS[1], KEYS[2], now, span) else used = num(redis.call('GET', KEYS[1])) end
-- We may use no more than the CRM says is left: with 'remaining' known, at least allowed - remaining is spent.
local target = used
if crmUsed >= 0 and crmUsed > target then target = crmUsed end
if crmRemaining >= 0 and allowed - crmRemaining > target then target = allowed - crmRemaining end
local missing = target - used
if missing <= 0 then return 0 end

if kind == 'r' then
  -- Stamped so they leave our window when the CRM says its window resets (Pipedrive's x-ratelimit-reset); without a
  -- reset time, a whole window from now (Zoho's 24 h credits).
  local at = now
  if resetInMs >= 0 then at = now + resetInMs - span end
  if at <= now - span then return 0 end
  add_units(KEYS[1], KEYS[2], now, at, missing, span, res)
else
  add_daily(KEYS[1], missing, span)
end
return missing
`);

// KEYS: pause, then each limit's keys, then each cap's lease set. ARGV: now, nLimits, nCaps, the limit groups.
// Read-only. Returns {now, pausedForMs, pauseReason, used_1, resetInMs_1, ..., inFlight_1, ...}.
export const USAGE = new RedisScript(`${HELPERS}
local now = clock(ARGV[1])
local nLimits, nCaps = tonumber(ARGV[2]), tonumber(ARGV[3])
local pausedFor = math.max(0, num(redis.call('HGET', KEYS[1], 'until')) - now)
local out = {now, pausedFor, redis.call('HGET', KEYS[1], 'reason') or ''}
local k, a = 2, 4
for i = 1, nLimits do
  local kind, span = ARGV[a], tonumber(ARGV[a + 3])
  if kind == 'r' then
    local live = redis.call('ZRANGEBYSCORE', KEYS[k], '(' .. string.format('%d', now - span), '+inf', 'WITHSCORES')
    local used, oldest = 0, nil
    for j = 1, #live, 2 do
      used = used + num(redis.call('HGET', KEYS[k + 1], live[j]))
      if not oldest then oldest = tonumber(live[j + 1]) end
    end
    out[#out + 1] = used
    out[#out + 1] = oldest and (oldest + span - now) or 0
    k = k + 2
  else
    out[#out + 1] = num(redis.call('GET', KEYS[k]))
    out[#out + 1] = span
    k = k + 1
  end
  a = a + ${LIMIT_ARGS}
end
for j = 1, nCaps do
  out[#out + 1] = redis.call('ZCOUNT', KEYS[k], '(' .. string.format('%d', now), '+inf')
  k = k + 1
end
return out
`);

/**
 * Lua scripts that make admission and state changes atomic across API
 * replicas and workers. Every script gets KEYS[1] (a key under the configured
 * prefix) and touches only keys under that prefix, so a hash-tagged prefix
 * (`{rewind}`) keeps them in one Redis Cluster slot.
 */

/**
 * A whole Alertmanager notification in one call: for each item, in order,
 * "new remediation / attach to the one in flight / repeat of a known incident"
 * (firing) or "record a resolution" (resolved). The rows of lifecycle.ts's
 * ALERT_EVENTS, applied atomically with the lookups.
 *
 * KEYS[1]: <prefix>:rems. ARGV: prefix, nowIso, nowMs, ttl, activeTtl, dryRun, targetsFiring, idBase,
 * maxAlerts, items (JSON [["f", target, incident, n] | ["r", target, incident, resolvedAt]]), the key prefix of
 * a remediation's job ('' when unknown: every queued one is reported without a job), then the firing alerts'
 * JSON, one argument each (item n's is ARGV[11 + n]): not nested in the items, so neither side escapes
 * or scans kilobytes of alert text a repeat does not store.
 * Returns 5 values per item: firing {outcome, id, state, job ('1' when the remediation's job exists), ''};
 * resolved {'resolved', id, state, allResolved (0 no | 1 now | 2 already), recorded resolution time};
 * unknown resolution {'unknown', '', '', '', ''}.
 */
export const ADMIT = `
local p, now, nowMs, ttl, activeTtl, dry, firing, idBase, maxAlerts =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9])
local items = cjson.decode(ARGV[10])
local jobKey = ARGV[11] or ''
local out = {}
local created = 0
local trimmed = {}
-- A queued remediation whose job exists needs no enqueue: storms and repeats stay one round trip.
-- The job key shares the prefix's hash tag (BullMQ's prefix is <prefix>:bull), so the same Cluster slot.
local function hasJob(id, state)
  if state ~= 'queued' or jobKey == '' then return '' end
  return redis.call('EXISTS', jobKey .. id) == 1 and '1' or ''
end
local function pushAlert(rk, alert)
  -- bounded: a storm of distinct alerts must not grow one record without limit; the rest are counted
  if redis.call('LLEN', rk .. ':alerts') < maxAlerts then
    redis.call('RPUSH', rk .. ':alerts', alert)
  else
    redis.call('HINCRBY', rk, 'alertsDropped', 1)
  end
end
for _, it in ipairs(items) do
  local kind, target, incident = it[1], it[2], it[3]
  local incKey = p .. ':incident:' .. target .. ':' .. incident
  local existing = redis.call('GET', incKey)
  local erk = existing and (p .. ':rem:' .. existing)
  if erk and redis.call('EXISTS', erk) == 0 then existing = nil end
  if kind == 'r' then
    if not existing then
      for _, v in ipairs({'unknown', '', '', '', ''}) do out[#out + 1] = v end
    else
      redis.call('SADD', erk .. ':resolved', incident)
      redis.call('EXPIRE', erk .. ':resolved', redis.call('TTL', erk))
      local all = 0
      if redis.call('SCARD', erk .. ':resolved') >= redis.call('SCARD', erk .. ':incidents') then
        all = 1
        if redis.call('HSETNX', erk, 'step:resolved', it[4]) == 0 then all = 2 end
      end
      for _, v in ipairs({'resolved', existing, redis.call('HGET', erk, 'state'), tostring(all),
        redis.call('HGET', erk, 'step:resolved') or ''}) do out[#out + 1] = v end
    end
  elseif existing then
    redis.call('HINCRBY', erk, 'seenAgain', 1)
    redis.call('HSET', erk, 'lastSeenAt', now)
    local st = redis.call('HGET', erk, 'state')
    for _, v in ipairs({'seen_again', existing, st, hasJob(existing, st), ''}) do out[#out + 1] = v end
  else
    local activeKey = p .. ':active:' .. target
    local active = redis.call('GET', activeKey)
    -- Only a remediation still queued or deciding takes more incidents: a marker left behind by a
    -- worker that wrote its terminal state but never released it must not swallow them.
    local activeState = active and redis.call('HGET', p .. ':rem:' .. active, 'state')
    if activeState == 'queued' or activeState == 'deciding' then
      local rk = p .. ':rem:' .. active
      redis.call('SET', incKey, active, 'EX', ttl)
      redis.call('SADD', rk .. ':incidents', incident)
      -- a new incident is firing: a resolution recorded for the earlier ones no longer ends this remediation
      redis.call('HDEL', rk, 'step:resolved')
      pushAlert(rk, ARGV[11 + it[4]])
      redis.call('HSET', rk, 'updatedAt', now)
      for _, v in ipairs({'attached', active, activeState, hasJob(active, activeState), ''}) do out[#out + 1] = v end
    else
      created = created + 1
      local newId = idBase .. string.format('%02x', created)
      local rk = p .. ':rem:' .. newId
      redis.call('SET', activeKey, newId, 'EX', activeTtl)
      redis.call('SET', incKey, newId, 'EX', ttl)
      redis.call('HSET', rk, 'id', newId, 'target', target, 'state', 'queued', 'createdAt', now, 'updatedAt', now,
        'targetsFiring', firing, 'seenAgain', 0, 'dryRun', dry, 'step:received', now)
      redis.call('SADD', rk .. ':incidents', incident)
      redis.call('RPUSH', rk .. ':alerts', ARGV[11 + it[4]])
      redis.call('ZADD', KEYS[1], nowMs + created, newId)
      redis.call('ZADD', p .. ':rems:t:' .. target, nowMs + created, newId)
      -- ids older than the retention name records that have expired: trim them, or the indexes only grow
      if not trimmed[target] then
        trimmed[target] = true
        redis.call('ZREMRANGEBYSCORE', p .. ':rems:t:' .. target, '-inf', '(' .. (nowMs - ttl * 1000))
      end
      redis.call('EXPIRE', rk, ttl)
      redis.call('EXPIRE', rk .. ':incidents', ttl)
      redis.call('EXPIRE', rk .. ':alerts', ttl)
      for _, v in ipairs({'created', newId, 'queued', '', ''}) do out[#out + 1] = v end
    end
  end
end
if created > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (nowMs - ttl * 1000)) end
return out
`;

/**
 * Compare-and-set of a remediation's state (a row of lifecycle.ts), with the row's effects written to
 * the record's outbox in the same step: a crash after the state write leaves them pending, not lost.
 * KEYS[1]: the record, KEYS[2]: the dead-letter index (<prefix>:rems:failed), KEYS[3]: the record's
 * outbox (hash "<event>:<effect>" → nowIso), KEYS[4]: the ids with pending effects (<prefix>:outbox).
 * ARGV: allowed from-states (comma-separated), to, fields to set (JSON object), fields to delete (JSON array), nowMs,
 * a field that must exist for the row to apply ('' for none), outbox entries (JSON array), nowIso.
 * Returns {1, previous} when applied, {0, current} when the record is in another state ('' when missing).
 */
export const TRANSITION = `
local cur = redis.call('HGET', KEYS[1], 'state')
if not cur then return {0, ''} end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == cur then allowed = true end end
if not allowed then return {0, cur} end
-- a guard: the row applies only while this step is recorded (a resolution a new incident has cleared no longer ends it)
if ARGV[6] ~= '' and redis.call('HEXISTS', KEYS[1], ARGV[6]) == 0 then return {0, cur} end
local flat = {'state', ARGV[2]}
for k, v in pairs(cjson.decode(ARGV[3])) do flat[#flat + 1] = k; flat[#flat + 1] = v end
redis.call('HSET', KEYS[1], unpack(flat))
local del = cjson.decode(ARGV[4])
if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)) end
local id = redis.call('HGET', KEYS[1], 'id')
if ARGV[2] == 'failed' then redis.call('ZADD', KEYS[2], tonumber(ARGV[5]), id)
elseif cur == 'failed' then redis.call('ZREM', KEYS[2], id) end
local outbox = cjson.decode(ARGV[7])
if #outbox > 0 then
  for _, e in ipairs(outbox) do redis.call('HSET', KEYS[3], e, ARGV[8]) end
  local ttl = redis.call('TTL', KEYS[1])
  if ttl > 0 then redis.call('EXPIRE', KEYS[3], ttl) end
  redis.call('SADD', KEYS[4], id)
end
return {1, cur}
`;

/**
 * Claim a once-only step (a Slack message of one kind): KEYS[1]: the record. ARGV: step field, nowIso,
 * claim field, token. Returns 1 when claimed now or earlier with the same token: the outbox entry's
 * token, so a drain retried after a lost answer or a crash before the send finds the claim its own.
 */
export const CLAIM_ONCE = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
  return 1
end
if redis.call('HGET', KEYS[1], ARGV[3]) == ARGV[4] then return 1 end
return 0
`;

/**
 * One effect of the outbox done. KEYS[1]: the record's outbox, KEYS[2]: <prefix>:outbox. ARGV: entry, id.
 * Returns 1 when this call removed it (the caller that gets 1 owns a claim-once effect), else 0.
 */
export const EFFECT_DONE = `
local n = redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return n
`;

/** Clear the target's in-flight marker only if it still names this remediation. KEYS[1]: the marker. ARGV: id */
export const RELEASE_ACTIVE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Make a failed remediation the target's in-flight one again, unless another is. KEYS[1]: the marker.
 * ARGV: id, activeTtl, prefix. Returns 1 when taken, 0 when another remediation of the target is in flight.
 */
export const TAKE_ACTIVE = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  local st = redis.call('HGET', ARGV[3] .. ':rem:' .. cur, 'state')
  if st == 'queued' or st == 'deciding' then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return 1
`;

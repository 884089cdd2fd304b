/**
 * Lua scripts that make admission atomic across API replicas: deciding
 * "new remediation / attach to the one in flight / repeat of a handled
 * incident" and writing the record happen in one step, so a storm of
 * identical alerts from several rewind replicas yields exactly one remediation.
 *
 * Keys are derived from a prefix inside the scripts (standalone Redis only).
 */

/**
 * KEYS[1]: <prefix>:admission (routing only, on a Redis Cluster). ARGV: prefix, target, incidentKey, newId, nowIso, alertJson, targetsFiring, ttlSeconds, activeTtlSeconds, dryRun
 * Returns {outcome, id, state}.
 */
export const ADMIT_FIRING = `
local p, target, incident, newId, now, alert, firing, ttl, activeTtl, dry =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10]
local incKey = p .. ':incident:' .. target .. ':' .. incident
local activeKey = p .. ':active:' .. target
local existing = redis.call('GET', incKey)
if existing then
  local rk = p .. ':rem:' .. existing
  if redis.call('EXISTS', rk) == 1 then
    redis.call('HINCRBY', rk, 'seenAgain', 1)
    redis.call('HSET', rk, 'lastSeenAt', now)
    return {'seen_again', existing, redis.call('HGET', rk, 'state')}
  end
end
local active = redis.call('GET', activeKey)
-- Only a remediation still queued or running takes more incidents: a marker left behind by a
-- worker that wrote its terminal state but never released it (Redis blip, crash) must not swallow them.
local activeState = active and redis.call('HGET', p .. ':rem:' .. active, 'state')
if activeState == 'queued' or activeState == 'processing' then
  local rk = p .. ':rem:' .. active
  redis.call('SET', incKey, active, 'EX', ttl)
  redis.call('SADD', rk .. ':incidents', incident)
  redis.call('RPUSH', rk .. ':alerts', alert)
  redis.call('HSET', rk, 'updatedAt', now)
  return {'attached', active, redis.call('HGET', rk, 'state')}
end
local rk = p .. ':rem:' .. newId
redis.call('SET', activeKey, newId, 'EX', activeTtl)
redis.call('SET', incKey, newId, 'EX', ttl)
redis.call('HSET', rk, 'id', newId, 'target', target, 'state', 'queued', 'createdAt', now, 'updatedAt', now,
  'targetsFiring', firing, 'seenAgain', 0, 'dryRun', dry, 'step:received', now)
redis.call('SADD', rk .. ':incidents', incident)
redis.call('RPUSH', rk .. ':alerts', alert)
local score = tonumber(ARGV[11])
redis.call('ZADD', p .. ':rems', score, newId)
redis.call('ZADD', p .. ':rems:t:' .. target, score, newId)
-- ids older than the retention name records that have expired: trim them, or the indexes only grow
redis.call('ZREMRANGEBYSCORE', p .. ':rems', '-inf', '(' .. (score - ttl * 1000))
redis.call('ZREMRANGEBYSCORE', p .. ':rems:t:' .. target, '-inf', '(' .. (score - ttl * 1000))
redis.call('EXPIRE', rk, ttl)
redis.call('EXPIRE', rk .. ':incidents', ttl)
redis.call('EXPIRE', rk .. ':alerts', ttl)
return {'created', newId, 'queued'}
`;

/**
 * A resolved alert. ARGV: prefix, target, incidentKey, resolvedAtIso
 * Returns {} when the incident is unknown, else {id, state, allResolved(0 no|1 now|2 already), firstResolution(0|1),
 * the recorded resolution time (the first one; empty while not all resolved)}.
 */
export const ADMIT_RESOLVED = `
local p, target, incident, resolvedAt = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local id = redis.call('GET', p .. ':incident:' .. target .. ':' .. incident)
if not id then return {} end
local rk = p .. ':rem:' .. id
if redis.call('EXISTS', rk) == 0 then return {} end
local added = redis.call('SADD', rk .. ':resolved', incident)
redis.call('EXPIRE', rk .. ':resolved', redis.call('TTL', rk))
local all = 0
if redis.call('SCARD', rk .. ':resolved') >= redis.call('SCARD', rk .. ':incidents') then
  all = 1
  if redis.call('HSETNX', rk, 'step:resolved', resolvedAt) == 0 then all = 2 end
end
return {id, redis.call('HGET', rk, 'state'), all, added, redis.call('HGET', rk, 'step:resolved') or ''}
`;

/** Clear the target's in-flight marker only if it still names this remediation. ARGV: prefix, target, id */
export const RELEASE_ACTIVE = `
local k = ARGV[1] .. ':active:' .. ARGV[2]
if redis.call('GET', k) == ARGV[3] then return redis.call('DEL', k) end
return 0
`;

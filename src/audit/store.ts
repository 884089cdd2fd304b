import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Alert } from '../core/types.ts';
import { incidentKey } from '../core/alerts.ts';
import type { Decision } from '../policy/types.ts';
import { ADMIT_FIRING, ADMIT_RESOLVED, RELEASE_ACTIVE } from './scripts.ts';
import type { Admission, AdmitOutcome, RemediationRecord, RemediationState } from './types.ts';

const DAY = 24 * 3600;

/**
 * EVALSHA first: the admission scripts run for every alert, and sending their
 * text each time is most of the request. Redis forgets scripts on restart or
 * SCRIPT FLUSH, so NOSCRIPT falls back to EVAL, which caches it again.
 */
async function runScript(redis: Redis, script: string, sha: string, args: string[]): Promise<unknown> {
  try {
    return await redis.evalsha(sha, 0, ...args);
  } catch (err) {
    if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
    return redis.eval(script, 0, ...args);
  }
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const SHAS = new Map([ADMIT_FIRING, ADMIT_RESOLVED, RELEASE_ACTIVE].map((s) => [s, sha1(s)]));
const run = (redis: Redis, script: string, ...args: string[]) =>
  runScript(redis, script, SHAS.get(script) ?? sha1(script), args);

export interface AuditStoreOptions {
  redis: Redis;
  prefix: string;
  /** how long records and incident keys are kept (default 90 days) */
  retentionSeconds?: number;
  /** safety expiry of the per-target in-flight marker, should a worker vanish (default 6 h) */
  activeTtlSeconds?: number;
}

export interface RecordPatch {
  state?: RemediationState;
  change?: RemediationRecord['change'];
  decision?: Decision;
  pullRequest?: RemediationRecord['pullRequest'];
  reason?: string;
  /** null clears an earlier attempt's error */
  error?: string | null;
  timeToRecoverySeconds?: number;
  /** step name → ISO time */
  steps?: Record<string, string>;
}

export interface ResolvedAdmission {
  remediationId: string;
  state: RemediationState;
  /**
   * every incident of the remediation has resolved (now or by an earlier delivery: a redelivery after
   * a failed enqueue must enqueue again; the job id makes that a no-op otherwise)
   */
  allResolved: boolean;
  /** the recorded resolution time (the first delivery's); set when allResolved */
  resolvedAt: string;
}

/** Where a record sits in a remediation index (the sorted set's score and member). */
export interface IndexPosition {
  score: number;
  id: string;
}

export interface RollbackHistory {
  rollbacksLastHour: number;
  rollbacksLastDay: number;
  lastRollbackAt: string | null;
}

/** Time-ordered, unguessable ids: listing by id is listing by creation. */
export function newRemediationId(now: Date): string {
  return `rem_${now.getTime().toString(36)}${randomBytes(6).toString('hex')}`;
}

export type AuditStore = ReturnType<typeof createAuditStore>;

export function createAuditStore(opts: AuditStoreOptions) {
  const { redis, prefix } = opts;
  const ttl = opts.retentionSeconds ?? 90 * DAY;
  const activeTtl = opts.activeTtlSeconds ?? 6 * 3600;
  const remKey = (id: string) => `${prefix}:rem:${id}`;

  async function admitFiring(p: {
    target: string;
    alert: Alert;
    targetsFiring: number;
    now: Date;
    dryRun: boolean;
  }): Promise<Admission> {
    const res = (await run(
      redis,
      ADMIT_FIRING,
      prefix,
      p.target,
      incidentKey(p.alert),
      newRemediationId(p.now),
      p.now.toISOString(),
      JSON.stringify(p.alert),
      String(p.targetsFiring),
      String(ttl),
      String(activeTtl),
      p.dryRun ? '1' : '0',
      String(p.now.getTime()),
    )) as [AdmitOutcome, string, RemediationState];
    return { outcome: res[0], remediationId: res[1], state: res[2] };
  }

  /** `resolvedAt`: when the alert resolved (its endsAt), recorded as the step `resolved` once every incident has. */
  async function admitResolved(p: {
    target: string;
    alert: Alert;
    resolvedAt: string;
  }): Promise<ResolvedAdmission | null> {
    const res = (await run(redis, ADMIT_RESOLVED, prefix, p.target, incidentKey(p.alert), p.resolvedAt)) as
      [] | [string, RemediationState, number, number, string];
    if (res.length === 0) return null;
    return {
      remediationId: res[0],
      state: res[1],
      allResolved: res[2] >= 1,
      resolvedAt: res[4] || p.resolvedAt,
    };
  }

  /** Records by id in one round trip; null where a record has expired. */
  async function getMany(ids: readonly string[]): Promise<Array<RemediationRecord | null>> {
    if (ids.length === 0) return [];
    const tx = redis.multi();
    for (const id of ids) tx.hgetall(remKey(id)).lrange(`${remKey(id)}:alerts`, 0, -1);
    const res = (await tx.exec()) ?? [];
    return ids.map((_, i) => {
      const hash = res[2 * i]?.[1] as Record<string, string> | undefined;
      const alerts = (res[2 * i + 1]?.[1] as string[] | undefined) ?? [];
      return hash?.id ? toRecord(hash, alerts) : null;
    });
  }

  async function get(id: string): Promise<RemediationRecord | null> {
    return (await getMany([id]))[0] ?? null;
  }

  async function list(p: { target?: string; limit: number }): Promise<RemediationRecord[]> {
    const index = p.target ? `${prefix}:rems:t:${p.target}` : `${prefix}:rems`;
    const ids = await redis.zrevrange(index, 0, p.limit * 2);
    const found = await getMany(ids);
    const expired = ids.filter((_, i) => found[i] === null);
    if (expired.length) await redis.zrem(index, ...expired); // expired records: drop their index entries
    return found.filter((r): r is RemediationRecord => r !== null).slice(0, p.limit);
  }

  /**
   * Records newest first, strictly after `after` (the index's order: creation
   * time, then id, both descending), with their index position for the next
   * page. Reads at most `limit` live records.
   */
  async function listPage(p: {
    target?: string;
    limit: number;
    after?: IndexPosition;
  }): Promise<Array<{ record: RemediationRecord; at: IndexPosition }>> {
    const index = p.target ? `${prefix}:rems:t:${p.target}` : `${prefix}:rems`;
    const out: Array<{ record: RemediationRecord; at: IndexPosition }> = [];
    const batch = Math.min(p.limit * 2 + 10, 1000);
    for (let offset = 0; out.length < p.limit; offset += batch) {
      const flat = await redis.zrevrangebyscore(
        index,
        p.after ? String(p.after.score) : '+inf',
        '-inf',
        'WITHSCORES',
        'LIMIT',
        offset,
        batch,
      );
      const positions: IndexPosition[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2)
        positions.push({ id: flat[i]!, score: Number(flat[i + 1]) });
      const wanted = positions.filter(
        (x) => !p.after || x.score < p.after.score || (x.score === p.after.score && x.id < p.after.id),
      );
      const found = await getMany(wanted.map((x) => x.id));
      const expired = wanted.filter((_, i) => found[i] === null).map((x) => x.id);
      if (expired.length) await redis.zrem(index, ...expired);
      wanted.forEach((at, i) => {
        const record = found[i];
        if (record && out.length < p.limit) out.push({ record, at });
      });
      if (positions.length < batch) break;
    }
    return out;
  }

  async function update(id: string, patch: RecordPatch, now: Date): Promise<void> {
    const fields: Record<string, string> = { updatedAt: now.toISOString() };
    if (patch.state) fields.state = patch.state;
    if (patch.change !== undefined) fields.change = JSON.stringify(patch.change);
    if (patch.decision) fields.decision = JSON.stringify(patch.decision);
    if (patch.pullRequest !== undefined) fields.pullRequest = JSON.stringify(patch.pullRequest);
    if (patch.reason !== undefined) fields.reason = patch.reason;
    if (typeof patch.error === 'string') fields.error = patch.error;
    if (patch.timeToRecoverySeconds !== undefined) fields.ttr = String(patch.timeToRecoverySeconds);
    for (const [step, at] of Object.entries(patch.steps ?? {})) fields[`step:${step}`] = at;
    if (patch.error === null) await redis.multi().hset(remKey(id), fields).hdel(remKey(id), 'error').exec();
    else await redis.hset(remKey(id), fields);
  }

  /**
   * The worker finishing a remediation and the resolution job can both see a
   * resolution; whichever claims it first acts on it, once.
   */
  async function claimResolution(id: string, now: Date): Promise<boolean> {
    return (await redis.hsetnx(remKey(id), 'step:resolution_handled', now.toISOString())) === 1;
  }

  /** Give the claim back after a failure, so the retry can act. */
  async function releaseResolution(id: string): Promise<void> {
    await redis.hdel(remKey(id), 'step:resolution_handled');
  }

  async function releaseActive(target: string, id: string): Promise<void> {
    await run(redis, RELEASE_ACTIVE, prefix, target, id);
  }

  async function recordRollback(target: string, id: string, at: Date): Promise<void> {
    const key = `${prefix}:rollbacks:${target}`;
    await redis
      .multi()
      .zadd(key, at.getTime(), id)
      .zremrangebyscore(key, '-inf', at.getTime() - 30 * DAY * 1000)
      .expire(key, 30 * DAY)
      .exec();
  }

  /** Rollbacks of the target in the last hour and day; `excludeId` leaves out the remediation asking (its own retry). */
  async function rollbackHistory(target: string, now: Date, excludeId?: string): Promise<RollbackHistory> {
    const t = now.getTime();
    const flat = await redis.zrangebyscore(
      `${prefix}:rollbacks:${target}`,
      t - DAY * 1000,
      '+inf',
      'WITHSCORES',
    );
    const times: number[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i] !== excludeId) times.push(Number(flat[i + 1]));
    const last = times.length ? Math.max(...times) : null;
    return {
      rollbacksLastHour: times.filter((x) => x > t - 3600_000).length,
      rollbacksLastDay: times.length,
      lastRollbackAt: last === null ? null : new Date(last).toISOString(),
    };
  }

  return {
    admitFiring,
    admitResolved,
    get,
    list,
    listPage,
    update,
    claimResolution,
    releaseResolution,
    releaseActive,
    recordRollback,
    rollbackHistory,
  };
}

function parseJson<T>(s: string | undefined): T | null {
  return s ? (JSON.parse(s) as T) : null;
}

function toRecord(h: Record<string, string>, alerts: string[]): RemediationRecord {
  const steps: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (k.startsWith('step:')) steps[k.slice(5)] = v;
  return {
    id: h.id ?? '',
    target: h.target ?? '',
    state: (h.state ?? 'queued') as RemediationState,
    createdAt: h.createdAt ?? '',
    updatedAt: h.updatedAt ?? '',
    alerts: alerts.map((a) => JSON.parse(a) as Alert),
    targetsFiring: Number(h.targetsFiring ?? 1),
    seenAgain: Number(h.seenAgain ?? 0),
    change: parseJson(h.change),
    decision: parseJson(h.decision),
    pullRequest: parseJson(h.pullRequest),
    reason: h.reason ?? null,
    error: h.error ?? null,
    dryRun: h.dryRun === '1',
    steps,
    timeToRecoverySeconds: h.ttr ? Number(h.ttr) : null,
  };
}

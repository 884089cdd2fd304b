import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Alert } from '../core/types.ts';
import { incidentKey } from '../core/alerts.ts';
import type { Decision } from '../policy/types.ts';
import { transitionFor, type Effect, type RemediationEvent } from '../remediation/lifecycle.ts';
import { ADMIT, CLAIM_ONCE, EFFECT_DONE, RELEASE_ACTIVE, TAKE_ACTIVE, TRANSITION } from './scripts.ts';
import type { Admission, AdmitOutcome, RemediationRecord, RemediationState, Verification } from './types.ts';

const DAY = 24 * 3600;
/** Alerts kept per record; later ones are only counted (alertsDropped). */
export const MAX_ALERTS_PER_RECORD = 100;

/**
 * EVALSHA first: the admission script runs for every notification, and
 * sending its text each time is most of the request. Redis forgets scripts on
 * restart or SCRIPT FLUSH, so NOSCRIPT falls back to EVAL, which caches it again.
 */
async function runScript(redis: Redis, script: string, sha: string, keys: string[], args: string[]) {
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
    return redis.eval(script, keys.length, ...keys, ...args);
  }
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const SHAS = new Map(
  [ADMIT, TRANSITION, RELEASE_ACTIVE, TAKE_ACTIVE, EFFECT_DONE, CLAIM_ONCE].map((s) => [s, sha1(s)]),
);
const run = (redis: Redis, script: string, keys: string[], ...args: string[]) =>
  runScript(redis, script, SHAS.get(script) ?? sha1(script), keys, args);

export interface AuditStoreOptions {
  redis: Redis;
  prefix: string;
  /** how long records and incident keys are kept (default 90 days) */
  retentionSeconds?: number;
  /** safety expiry of the per-target in-flight marker, should a worker vanish (default 6 h) */
  activeTtlSeconds?: number;
  /** alerts kept per record (default 100); later ones are counted in alertsDropped */
  maxAlertsPerRecord?: number;
  /**
   * Redis key of a remediation's job without its id (src/queue/queue.ts remediateJobKeyPrefix): admission
   * then reports whether a queued remediation's job exists, so a repeat needs no enqueue
   */
  remediateJobKeyPrefix?: string;
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
  verification?: Verification;
  /** step name → ISO time */
  steps?: Record<string, string>;
  slack?: NonNullable<RemediationRecord['slack']>;
  mergeCommit?: string;
  notHealed?: boolean;
  /** steps to forget (e.g. a Slack claim, so a retried remediation may say "failed" again) */
  clearSteps?: string[];
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

/** An effect of a transition not done yet (the record's outbox). */
export interface PendingEffect {
  event: RemediationEvent;
  effect: Effect;
  /** when the transition was written (ISO) */
  at: string;
}

export interface RollbackHistory {
  rollbacksLastHour: number;
  rollbacksLastDay: number;
  lastRollbackAt: string | null;
}

/**
 * Time-ordered, unguessable ids: listing by id is listing by creation. One
 * random base per notification; the admission script appends a counter for
 * each remediation it creates, so repeats and attachments cost no randomness.
 */
export function remediationIdBase(now: Date): string {
  return `rem_${now.getTime().toString(36)}${randomHex5()}`;
}

/**
 * 5 bytes of the CSPRNG as hex, cut from a pool filled 4 KiB at a time: one synchronous
 * randomBytes call per notification cost 2.5 % of the API's CPU in a storm (bench:profile).
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomHex5(): string {
  if (poolAt + 5 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  poolAt += 5;
  return pool.toString('hex', poolAt - 5, poolAt);
}

/** One alert of a notification, as admission takes it. */
export type AdmissionItem =
  | { kind: 'firing'; target: string; alert: Alert }
  | { kind: 'resolved'; target: string; alert: Alert; resolvedAt: string };

export type AdmissionResult =
  (Admission & { kind: 'firing' }) | ({ kind: 'resolved' } & ResolvedAdmission) | { kind: 'unknown' };

export type AuditStore = ReturnType<typeof createAuditStore>;

export function createAuditStore(opts: AuditStoreOptions) {
  const { redis, prefix } = opts;
  const ttl = opts.retentionSeconds ?? 90 * DAY;
  const activeTtl = opts.activeTtlSeconds ?? 6 * 3600;
  const maxAlerts = opts.maxAlertsPerRecord ?? MAX_ALERTS_PER_RECORD;
  const remKey = (id: string) => `${prefix}:rem:${id}`;
  const outboxKey = (id: string) => `${prefix}:rem:${id}:outbox`;

  /** A whole notification in one script call; results in the order of `items`. */
  async function admit(
    items: readonly AdmissionItem[],
    p: { targetsFiring: number; now: Date; dryRun: boolean },
  ): Promise<AdmissionResult[]> {
    if (items.length === 0) return [];
    const alerts: string[] = [];
    const wire = items.map((it) =>
      it.kind === 'firing'
        ? ['f', it.target, incidentKey(it.alert), alerts.push(JSON.stringify(it.alert))]
        : ['r', it.target, incidentKey(it.alert), it.resolvedAt],
    );
    const res = (await run(
      redis,
      ADMIT,
      [`${prefix}:rems`],
      prefix,
      p.now.toISOString(),
      String(p.now.getTime()),
      String(ttl),
      String(activeTtl),
      p.dryRun ? '1' : '0',
      String(p.targetsFiring),
      remediationIdBase(p.now),
      String(maxAlerts),
      JSON.stringify(wire),
      opts.remediateJobKeyPrefix ?? '',
      ...alerts,
    )) as string[];
    return items.map((_, i): AdmissionResult => {
      const [outcome = '', id = '', state = '', fourth = '', resolvedAt = ''] = res.slice(5 * i, 5 * i + 5);
      if (outcome === 'unknown') return { kind: 'unknown' };
      if (outcome === 'resolved')
        return {
          kind: 'resolved',
          remediationId: id,
          state: state as RemediationState,
          allResolved: Number(fourth) >= 1,
          resolvedAt,
        };
      return {
        kind: 'firing',
        outcome: outcome as AdmitOutcome,
        remediationId: id,
        state: state as RemediationState,
        jobQueued: fourth === '1',
      };
    });
  }

  async function admitFiring(p: {
    target: string;
    alert: Alert;
    targetsFiring: number;
    now: Date;
    dryRun: boolean;
  }): Promise<Admission> {
    const [r] = await admit([{ kind: 'firing', target: p.target, alert: p.alert }], p);
    if (r?.kind !== 'firing') throw new Error('admission: no result');
    return { outcome: r.outcome, remediationId: r.remediationId, state: r.state };
  }

  /** `resolvedAt`: when the alert resolved (its endsAt), recorded as the step `resolved` once every incident has. */
  async function admitResolved(p: {
    target: string;
    alert: Alert;
    resolvedAt: string;
  }): Promise<ResolvedAdmission | null> {
    const [r] = await admit([{ kind: 'resolved', ...p }], {
      targetsFiring: 0,
      now: new Date(),
      dryRun: false,
    });
    if (r?.kind !== 'resolved') return null;
    return {
      remediationId: r.remediationId,
      state: r.state,
      allResolved: r.allResolved,
      resolvedAt: r.resolvedAt || p.resolvedAt,
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

  /** Newest first; `state: 'failed'` reads the dead-letter index, other states filter the newest 1,000. */
  async function list(p: {
    target?: string;
    state?: RemediationState;
    limit: number;
  }): Promise<RemediationRecord[]> {
    const index =
      p.state === 'failed'
        ? `${prefix}:rems:failed`
        : p.target
          ? `${prefix}:rems:t:${p.target}`
          : `${prefix}:rems`;
    const ids = await redis.zrevrange(index, 0, p.state && p.state !== 'failed' ? 999 : p.limit * 2);
    const found = await getMany(ids);
    const expired = ids.filter((_, i) => found[i] === null);
    if (expired.length) await redis.zrem(index, ...expired); // expired records: drop their index entries
    return found
      .filter((r): r is RemediationRecord => r !== null)
      .filter((r) => (p.state ? r.state === p.state : true) && (p.target ? r.target === p.target : true))
      .slice(0, p.limit);
  }

  /**
   * Records newest first, strictly after `after` (the index's order: creation
   * time, then id, both descending), with their index position for the next
   * page. Reads at most `limit` live records. `state: 'failed'` pages the
   * dead-letter index (newest failure first); other states and a target with
   * it filter the records read, so the page fills from further down the index.
   */
  async function listPage(p: {
    target?: string;
    state?: RemediationState;
    limit: number;
    after?: IndexPosition;
  }): Promise<Array<{ record: RemediationRecord; at: IndexPosition }>> {
    const index =
      p.state === 'failed'
        ? `${prefix}:rems:failed`
        : p.target
          ? `${prefix}:rems:t:${p.target}`
          : `${prefix}:rems`;
    const keep = (r: RemediationRecord) =>
      (p.state ? r.state === p.state : true) && (p.target ? r.target === p.target : true);
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
        if (record && keep(record) && out.length < p.limit) out.push({ record, at });
      });
      if (positions.length < batch) break;
    }
    return out;
  }

  function patchFields(patch: RecordPatch, now: Date): Record<string, string> {
    const fields: Record<string, string> = { updatedAt: now.toISOString() };
    if (patch.state) fields.state = patch.state;
    if (patch.change !== undefined) fields.change = JSON.stringify(patch.change);
    if (patch.decision) fields.decision = JSON.stringify(patch.decision);
    if (patch.pullRequest !== undefined) fields.pullRequest = JSON.stringify(patch.pullRequest);
    if (patch.reason !== undefined) fields.reason = patch.reason;
    if (typeof patch.error === 'string') fields.error = patch.error;
    if (patch.slack !== undefined) fields.slack = JSON.stringify(patch.slack);
    if (patch.timeToRecoverySeconds !== undefined) fields.ttr = String(patch.timeToRecoverySeconds);
    if (patch.mergeCommit !== undefined) fields.mergeCommit = patch.mergeCommit;
    if (patch.notHealed) fields.notHealed = '1';
    if (patch.verification) fields.verification = JSON.stringify(patch.verification);
    for (const [step, at] of Object.entries(patch.steps ?? {})) fields[`step:${step}`] = at;
    return fields;
  }

  /** Checkpoint fields without a state change. */
  async function update(id: string, patch: RecordPatch, now: Date): Promise<void> {
    const fields = patchFields(patch, now);
    if (patch.error === null) await redis.multi().hset(remKey(id), fields).hdel(remKey(id), 'error').exec();
    else await redis.hset(remKey(id), fields);
  }

  /**
   * Apply a row of the lifecycle table as a compare-and-set: written only when
   * the record is in one of the row's from-states. `applied: false` tells the
   * caller another worker (or an operator) got there first.
   */
  async function transition(
    id: string,
    event: RemediationEvent,
    patch: Omit<RecordPatch, 'state'>,
    now: Date,
    guard: { requireStep?: string } = {},
  ): Promise<{ applied: boolean; previous: RemediationState | null }> {
    const t = transitionFor(event);
    const fields = patchFields({ ...patch, steps: { [t.to]: now.toISOString(), ...patch.steps } }, now);
    const res = (await run(
      redis,
      TRANSITION,
      [remKey(id), `${prefix}:rems:failed`, outboxKey(id), `${prefix}:outbox`],
      [...new Set(t.from)].join(','),
      t.to,
      JSON.stringify(fields),
      JSON.stringify([
        ...(patch.error === null ? ['error'] : []),
        ...(patch.clearSteps ?? []).map((k) => `step:${k}`),
      ]),
      String(now.getTime()),
      guard.requireStep ? `step:${guard.requireStep}` : '',
      JSON.stringify(t.effects.map((e) => `${event}:${e}`)),
      now.toISOString(),
    )) as [number, string];
    return { applied: res[0] === 1, previous: (res[1] || null) as RemediationState | null };
  }

  /**
   * Slack says each outcome once: the first caller to claim a kind sends it. `token` names the claimant
   * (an outbox entry): claiming again with it succeeds, so a send cut short by a lost answer or a crash is
   * made by the retry. Without a token every call is a new claimant.
   */
  async function claimNotification(id: string, kind: string, now: Date, token?: string): Promise<boolean> {
    const claim = token ?? randomBytes(8).toString('hex');
    const args = [`step:notified_${kind}`, now.toISOString(), `claim:notified_${kind}`, claim];
    return (await run(redis, CLAIM_ONCE, [remKey(id)], ...args)) === 1;
  }

  /** The transitions' effects not done yet, oldest first. */
  async function pendingEffects(id: string): Promise<PendingEffect[]> {
    const h = await redis.hgetall(outboxKey(id));
    return Object.entries(h)
      .map(([k, at]) => {
        const [event = '', effect = ''] = k.split(':');
        return { event: event as RemediationEvent, effect: effect as Effect, at };
      })
      .sort((a, b) => a.at.localeCompare(b.at));
  }

  /** One pending effect done; true for the caller that removed it (claim-once effects act only then). */
  async function effectDone(id: string, event: RemediationEvent, effect: Effect): Promise<boolean> {
    return (
      (await run(redis, EFFECT_DONE, [outboxKey(id), `${prefix}:outbox`], `${event}:${effect}`, id)) === 1
    );
  }

  /** One drain of a remediation's outbox at a time: a lease (`ms`), so a dead drainer's runs out. */
  async function takeDrain(id: string, owner: string, ms: number): Promise<boolean> {
    return (await redis.set(`${remKey(id)}:draining`, owner, 'PX', ms, 'NX')) === 'OK';
  }

  async function releaseDrain(id: string, owner: string): Promise<void> {
    await run(redis, RELEASE_ACTIVE, [`${remKey(id)}:draining`], owner); // deletes it only if still ours
  }

  /** Remediations with pending effects (a worker drains them at start). */
  async function withPendingEffects(): Promise<string[]> {
    return redis.smembers(`${prefix}:outbox`);
  }

  /** Make a failed remediation its target's in-flight one again; false when another one is in flight. */
  async function takeActive(target: string, id: string): Promise<boolean> {
    return (
      (await run(redis, TAKE_ACTIVE, [`${prefix}:active:${target}`], id, String(activeTtl), prefix)) === 1
    );
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
    await run(redis, RELEASE_ACTIVE, [`${prefix}:active:${target}`], id);
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

  /** Remediations of the target whose merged rollback did not heal, in the last day. */
  async function notHealedSince(target: string, since: Date): Promise<number> {
    return redis.zcount(`${prefix}:nothealed:${target}`, since.getTime(), '+inf');
  }

  async function recordNotHealed(target: string, id: string, at: Date): Promise<void> {
    const key = `${prefix}:nothealed:${target}`;
    await redis
      .multi()
      .zadd(key, at.getTime(), id)
      .zremrangebyscore(key, '-inf', at.getTime() - 30 * DAY * 1000)
      .expire(key, 30 * DAY)
      .exec();
  }

  return {
    admit,
    admitFiring,
    admitResolved,
    get,
    list,
    listPage,
    update,
    transition,
    claimNotification,
    pendingEffects,
    effectDone,
    withPendingEffects,
    takeDrain,
    releaseDrain,
    takeActive,
    notHealedSince,
    recordNotHealed,
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
    ...(h.slack ? { slack: parseJson<NonNullable<RemediationRecord['slack']>>(h.slack) } : {}),
    mergeCommit: h.mergeCommit ?? null,
    notHealed: h.notHealed === '1',
    alertsDropped: Number(h.alertsDropped ?? 0),
    verification: parseJson(h.verification),
  };
}

import Value from 'typebox/value';
import { createAuditStore } from '../audit/store.ts';
import { pino } from 'pino';
import type { Config } from '../config/config.ts';
import { triage } from '../core/alerts.ts';
import { RewindError, errorMessage } from '../core/errors.ts';
import type { GitOpsRepository } from '../core/ports.ts';
import { buildTargetIndex } from '../core/targets.ts';
import type { Alert } from '../core/types.ts';
import { createGitHubRepository, createOctokit } from '../github/index.ts';
import { WebhookSchema, payloadAlerts } from '../http/schemas.ts';
import { createPolicyEngine } from '../policy/engine.ts';
import type { PolicyEngine, PolicyInput } from '../policy/types.ts';
import { redactUrl } from '../observability/logger.ts';
import { decide } from '../remediation/decide.ts';
import { redisFromUrl } from '../config/redis-client.ts';

export function parsePayload(text: string, file: string): Alert[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new RewindError('config_invalid', `${file}: not JSON: ${errorMessage(err)}`);
  }
  if (!Value.Check(WebhookSchema, doc)) {
    const e = [...Value.Errors(WebhookSchema, doc)][0];
    throw new RewindError(
      'config_invalid',
      `${file}: not an Alertmanager v4 payload: ${e?.instancePath || '(root)'} ${e?.message ?? ''}`,
    );
  }
  return payloadAlerts(doc);
}

type History = Omit<PolicyInput['history'], 'openPullRequest'>;
const NO_HISTORY: History = { rollbacksLastHour: 0, rollbacksLastDay: 0, lastRollbackAt: null };

/**
 * The rollback history the worker would give the policy, read from the Redis
 * of the config; null when it does not answer within a second or two (a plan
 * must still work from a laptop without the production Redis).
 */
async function redisHistory(config: Config): Promise<{
  read(target: string, now: Date): Promise<History>;
  close(): void;
} | null> {
  const redis = redisFromUrl(config.redis.url, {
    lazyConnect: true,
    connectTimeout: 1_500,
    commandTimeout: 3_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    redis.disconnect();
    return null;
  }
  const store = createAuditStore({ redis, prefix: config.redis.prefix });
  return { read: (target, now) => store.rollbackHistory(target, now), close: () => redis.disconnect() };
}

/**
 * `rewind plan --alert FILE`: reads Git, the rollback history in Redis (when
 * it answers; else it says so and counts the history as empty) and evaluates
 * the policy for each target the payload selects; writes nothing. Returns the
 * exit code.
 */
export async function runPlan(
  config: Config,
  payloadText: string,
  file: string,
  print: (s: string) => void,
  deps?: { repo?: GitOpsRepository; policy?: PolicyEngine; now?: Date },
): Promise<number> {
  const alerts = parsePayload(payloadText, file);
  const t = triage(alerts, buildTargetIndex(config.targets));
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const policy =
    deps?.policy ??
    (await createPolicyEngine({ wasmPath: config.policy.wasm, dataPath: config.policy.data, logger }));
  const repo =
    deps?.repo ??
    createGitHubRepository({
      octokit: createOctokit({ baseUrl: config.github.apiUrl, auth: config.github.auth, logger }),
    });
  const now = deps?.now ?? new Date();
  print(
    `${file}: ${t.received} alert(s), ${t.firing.length} target(s) firing, ${t.resolutions.length} resolution(s), ${t.ignored} ignored`,
  );
  const history = t.firing.length > 0 ? await redisHistory(config) : null;
  if (t.firing.length > 0 && history === null)
    print(`Redis at ${redactUrl(config.redis.url)} did not answer: rollback history counted as empty`);
  let failed = 0;
  for (const group of t.firing) {
    const names = group.alerts.map((a) => `${a.labels.alertname ?? '?'}/${a.fingerprint}`).join(', ');
    print(`\n== ${group.target.name} (${group.target.repo}:${group.target.branch}/${group.target.path})`);
    print(`   alerts: ${names}`);
    try {
      const h = history ? await history.read(group.target.name, now) : NO_HISTORY;
      if (history)
        print(
          `   history:   ${h.rollbacksLastHour} rollback(s) in the last hour, ${h.rollbacksLastDay} in the last day (from Redis)`,
        );
      const d = await decide(
        { repo, policy },
        {
          remediationId: 'plan',
          target: group.target,
          alerts: group.alerts,
          targetsFiring: t.targetsFiring,
          history: h,
          now,
        },
      );
      print(
        `   current:   ${d.change.from} (since ${d.change.fromCommit.slice(0, 7)}, ${d.analysis.current.committedAt})`,
      );
      print(
        `   candidate: ${d.change.to ?? `none (${d.analysis.reason ?? 'no earlier version'})`}${d.change.toCommit ? ` (${d.change.toCommit.slice(0, 7)})` : ''}`,
      );
      print(
        `   decision:  ${d.decision.allow ? 'allow' : 'deny'}, mode ${d.decision.mode}, labels [${d.decision.labels.join(', ')}]`,
      );
      for (const r of d.decision.reasons) print(`     - ${r}`);
      if (d.plan)
        print(
          `   would ${d.decision.mode === 'merge' ? 'open and merge' : 'open'} ${d.plan.headBranch}: "${d.plan.title}"`,
        );
      if (d.openPr) print(`   open rewind pull request: #${d.openPr.number} ${d.openPr.htmlUrl}`);
    } catch (err) {
      failed++;
      print(`   error: ${errorMessage(err)}`);
    }
  }
  history?.close();
  await policy.close();
  return failed ? 1 : 0;
}

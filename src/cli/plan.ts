import Value from 'typebox/value';
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
import type { PolicyEngine } from '../policy/types.ts';
import { decide } from '../remediation/decide.ts';

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

/**
 * `rewind plan --alert FILE`: reads Git and evaluates the policy for each
 * target the payload selects; writes nothing and does not touch Redis (so
 * rollback history counts as empty). Returns the exit code.
 */
export async function runPlan(
  config: Config,
  payloadText: string,
  file: string,
  print: (s: string) => void,
  deps?: { repo: GitOpsRepository; policy: PolicyEngine; now?: Date },
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
  let failed = 0;
  for (const group of t.firing) {
    const names = group.alerts.map((a) => `${a.labels.alertname ?? '?'}/${a.fingerprint}`).join(', ');
    print(`\n== ${group.target.name} (${group.target.repo}:${group.target.branch}/${group.target.path})`);
    print(`   alerts: ${names}`);
    try {
      const d = await decide(
        { repo, policy },
        {
          remediationId: 'plan',
          target: group.target,
          alerts: group.alerts,
          targetsFiring: t.targetsFiring,
          history: { rollbacksLastHour: 0, rollbacksLastDay: 0, lastRollbackAt: null },
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
  await policy.close();
  return failed ? 1 : 0;
}

import { readFileSync } from 'node:fs';
import closeWithGrace from 'close-with-grace';
import { loadConfig, checkConfigFiles, type Config, type Env } from './config/config.ts';
import { RewindError, errorMessage } from './core/errors.ts';
import { runPlan } from './cli/plan.ts';
import { redactUrl } from './observability/logger.ts';
import { runRetry } from './cli/retry.ts';
import { runRelease } from './cli/release.ts';
import { startRole, type Role } from './server.ts';
import { startTracing } from './observability/tracing.ts';

const USAGE = `usage: rewind <command> [--config FILE]

commands:
  serve                 API and worker in one process
  api                   HTTP API only (webhook, audit, health, metrics)
  worker                queue worker only (plus health and metrics on PORT)
  check-config          validate the config and environment, then exit
  plan --alert FILE     dry run: per alert, the target, rollback and policy decision; writes nothing
  retry <id>            run a failed remediation again from its last checkpoint
  release TARGET        open a pull request that lifts the target's hold (Flux marker, ignored tag)

config: $REWIND_CONFIG or config/rewind.yaml`;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (!v || v.startsWith('--')) throw new RewindError('config_invalid', `${name} needs a value`);
  return v;
}

async function serve(role: Role, config: Config, env: Env): Promise<void> {
  // before anything makes a client, so every span has the provider (off without OTEL_EXPORTER_OTLP_ENDPOINT)
  const tracing = await startTracing(env);
  const started = await startRole(role, config, { onClose: () => tracing.shutdown() });
  const { app } = started;
  const grace = closeWithGrace({ delay: 10_000 }, async ({ err, signal }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    else app.log.info({ signal }, 'shutting down');
    await started.close();
  });
  try {
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    // The worker and Redis clients are already running: without closing them the process would
    // stay up as a headless worker that no probe or load balancer can reach.
    // (and close-with-grace would turn the exit into a clean 0 on beforeExit)
    grace.uninstall();
    await started.close().catch(() => {});
    throw err;
  }
  started.warmHistory();
  app.log.info(
    {
      role,
      targets: config.targets.length,
      dryRun: config.dryRun,
      github: redactUrl(config.github.apiUrl),
      redis: redactUrl(config.redis.url),
      auth: config.github.auth.kind,
    },
    'rewind started',
  );
}

export async function main(argv: string[], env: Env): Promise<void> {
  const [cmd = 'help', ...args] = argv;
  try {
    if (cmd === 'help' || cmd === '--help' || cmd === '-h') {
      console.log(USAGE);
      return;
    }
    const config = loadConfig(env, flag(args, '--config'));
    switch (cmd) {
      case 'serve':
      case 'api':
      case 'worker':
        return await serve(cmd, config, env);
      case 'check-config':
        checkConfigFiles(config);
        console.log(
          `${config.file}: ok (${config.targets.length} target${config.targets.length === 1 ? '' : 's'}: ${config.targets.map((t) => t.name).join(', ')})`,
        );
        return;
      case 'plan': {
        const file = flag(args, '--alert');
        if (!file) throw new RewindError('config_invalid', 'plan needs --alert FILE');
        checkConfigFiles(config);
        process.exitCode = await runPlan(config, readFileSync(file, 'utf8'), file, (s) => console.log(s));
        return;
      }
      case 'retry': {
        const id = args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--config');
        if (!id) throw new RewindError('config_invalid', 'retry needs a remediation id');
        const res = await runRetry(config, id);
        if (res.kind === 'queued') console.log(`${id}: queued again; it resumes from its last checkpoint`);
        else console.error(`rewind: ${res.kind === 'not_found' ? `no remediation ${id}` : res.message}`);
        process.exitCode = res.kind === 'queued' ? 0 : 1;
        return;
      }
      case 'release': {
        const name = args.find((a) => !a.startsWith('--') && a !== flag(args, '--config'));
        if (!name) throw new RewindError('config_invalid', 'release needs a TARGET name');
        process.exitCode = await runRelease(config, name, (s) => console.log(s));
        return;
      }
      default:
        console.error(`rewind: unknown command "${cmd}"\n\n${USAGE}`);
        process.exitCode = 2;
    }
  } catch (err) {
    console.error(`rewind: ${errorMessage(err)}`);
    process.exitCode = err instanceof RewindError && err.code === 'config_invalid' ? 78 : 1;
  }
}

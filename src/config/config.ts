import { existsSync, readFileSync } from 'node:fs';
import Value from 'typebox/value';
import { parse } from 'yaml';
import { RewindError } from '../core/errors.ts';
import { compileRegex } from '../core/targets.ts';
import type { Target } from '../core/types.ts';
import { clusterPrefix, parseRedisUrl } from './redis-url.ts';
import { ConfigFileSchema, type ConfigFile } from './schema.ts';
import { DEFAULT_TIMEOUTS, type ServerTimeouts } from '../http/timeouts.ts';

export type GitHubAuth =
  | { kind: 'token'; token: string }
  | { kind: 'app'; appId: string; privateKey: string; installationId: string }
  | { kind: 'none' };

/** Everything rewind runs with: the validated file merged with the environment. Frozen. */
export interface Config {
  file: string;
  github: { apiUrl: string; author: { name: string; email: string }; auth: GitHubAuth };
  redis: { url: string; prefix: string };
  policy: { wasm: string; data: string };
  server: {
    host: string;
    port: number;
    bodyLimit: number;
    webhookToken: string | null;
  } & ServerTimeouts;
  worker: { concurrency: number };
  slackWebhookUrl: string | null;
  /** bot mode (SLACK_BOT_TOKEN + slack.channel): one message per remediation, updated in place */
  slack: { botToken: string | null; channel: string | null; apiUrl: string };
  /** Argo CD API; url null when no target uses Argo CD */
  argocd: { url: string | null; token: string | null };
  /** HMAC key of `generic-hmac` Flux Receivers (null: plain `generic` Receivers) */
  fluxReceiverSecret: string | null;
  dryRun: boolean;
  logLevel: string;
  targets: readonly Target[];
}

export type Env = Readonly<Record<string, string | undefined>>;

const SECRET_KEYS = /^(token|password|secret|privateKey|private_key|webhookToken|apiKey)$/i;

function fail(file: string, field: string, what: string): never {
  throw new RewindError('config_invalid', `${file}: ${field}: ${what}`);
}

/** "/targets/0/name" → "targets[0].name" */
function fieldName(pointer: string, extra?: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra) parts.push(extra);
  if (parts.length === 0) return '(root)';
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function findSecretKey(value: unknown, path: string[] = []): string | null {
  if (value === null || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    if (SECRET_KEYS.test(k)) return [...path, k].join('.');
    const inner = findSecretKey(v, [...path, k]);
    if (inner) return inner;
  }
  return null;
}

/** The path to the first value that contains itself (a recursive YAML alias), or null. */
function recursivePath(value: unknown, path: string[] = [], ancestors = new Set<object>()): string | null {
  if (value === null || typeof value !== 'object') return null;
  if (ancestors.has(value)) return path.join('.') || '(root)';
  ancestors.add(value);
  for (const [k, v] of Object.entries(value)) {
    const found = recursivePath(v, [...path, k], ancestors);
    if (found) return found;
  }
  ancestors.delete(value);
  return null;
}

/**
 * userinfo or a secret-looking query parameter in a URL; the caller never repeats the URL. A pattern,
 * not `new URL`: the cluster and sentinel forms (`redis+cluster://u:p@h1:1,h2:2`) are no WHATWG URLs.
 */
function urlCarriesCredentials(raw: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(raw) ||
    /\?(?:[^#]*&)?[^=&#]*(?:token|password|secret|key)[^=&#]*=/i.test(raw)
  );
}

/** Validate a parsed config document. Throws config_invalid naming the file, the field and the problem. */
export function validateConfigFile(doc: unknown, file: string): ConfigFile {
  // before any walk below: a recursive alias makes an object that contains itself
  const loop = recursivePath(doc);
  if (loop)
    fail(
      file,
      fieldName(`/${loop.replace(/\./g, '/')}`),
      'a recursive YAML alias (the value contains itself)',
    );
  const secret = findSecretKey(doc);
  if (secret) fail(file, secret, 'secrets are not read from the config file; set them in the environment');
  if (!Value.Check(ConfigFileSchema, doc)) {
    const errors = [...Value.Errors(ConfigFileSchema, doc)].filter((e) => e.keyword !== 'boolean');
    const first = errors[0];
    if (!first) fail(file, '(root)', 'does not match the config schema');
    const extra = (first.params as { additionalProperties?: string[] }).additionalProperties;
    if (extra?.length) fail(file, fieldName(first.instancePath, extra[0]), 'unknown field');
    const missing = (first.params as { requiredProperties?: string[] }).requiredProperties;
    if (missing?.length) fail(file, fieldName(first.instancePath, missing[0]), 'is required');
    fail(file, fieldName(first.instancePath), first.message);
  }
  if (doc.github?.apiUrl !== undefined && urlCarriesCredentials(doc.github.apiUrl))
    fail(file, 'github.apiUrl', 'must not carry credentials; set GITHUB_TOKEN or the GITHUB_APP_* variables');
  if (doc.redis?.url !== undefined && urlCarriesCredentials(doc.redis.url))
    fail(
      file,
      'redis.url',
      'must not carry credentials; put a URL with the password in REDIS_URL (environment)',
    );
  const names = new Set<string>();
  doc.targets.forEach((t, i) => {
    if (names.has(t.name)) fail(file, `targets[${i}].name`, `duplicate target name "${t.name}"`);
    names.add(t.name);
    for (const [label, want] of Object.entries(t.match)) {
      if (!want.startsWith('~')) continue;
      try {
        compileRegex(want.slice(1));
      } catch (err) {
        fail(file, `targets[${i}].match.${label}`, `invalid regex: ${(err as Error).message}`);
      }
    }
  });
  return doc;
}

function readSecret(env: Env, name: string): string | null {
  const direct = env[name];
  if (direct) return direct.trim();
  const path = env[`${name}_FILE`];
  if (!path) return null;
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    throw new RewindError('config_invalid', `${name}_FILE: cannot read ${path}`);
  }
}

function githubAuth(env: Env): GitHubAuth {
  const token = readSecret(env, 'GITHUB_TOKEN');
  if (token) return { kind: 'token', token };
  const appId = env.GITHUB_APP_ID;
  const keyFile = env.GITHUB_APP_PRIVATE_KEY_FILE;
  const installationId = env.GITHUB_APP_INSTALLATION_ID;
  if (appId || keyFile || installationId) {
    if (!appId || !keyFile || !installationId)
      throw new RewindError(
        'config_invalid',
        'environment: GitHub App auth needs GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY_FILE and GITHUB_APP_INSTALLATION_ID',
      );
    let privateKey: string;
    try {
      privateKey = readFileSync(keyFile, 'utf8');
    } catch {
      throw new RewindError('config_invalid', `GITHUB_APP_PRIVATE_KEY_FILE: cannot read ${keyFile}`);
    }
    return { kind: 'app', appId, privateKey, installationId };
  }
  return { kind: 'none' };
}

function envInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new RewindError('config_invalid', `environment: ${name}: "${raw}" is not a port number`);
  return n;
}

function envBool(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0' || raw === 'no') return false;
  if (raw === 'true' || raw === '1' || raw === 'yes') return true;
  throw new RewindError('config_invalid', `environment: ${name}: "${env[name]}" is not true or false`);
}

function slackBot(env: Env, c: ConfigFile, file: string): Config['slack'] {
  const botToken = readSecret(env, 'SLACK_BOT_TOKEN');
  const channel = c.slack?.channel ?? null;
  if (botToken && !channel) fail(file, 'slack.channel', 'is required when SLACK_BOT_TOKEN is set');
  return { botToken, channel, apiUrl: c.slack?.apiUrl ?? 'https://slack.com/api/' };
}

/** Parse + validate the file text and merge the environment. Pure apart from reading secret files named by env. */
export function buildConfig(text: string, file: string, env: Env): Config {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: true });
  } catch (err) {
    fail(file, '(root)', `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const c = validateConfigFile(doc, file);
  const redisUrl = env.REDIS_URL || c.redis?.url || 'redis://127.0.0.1:6379';
  const redisTarget = parseRedisUrl(redisUrl);
  const apiUrl = (env.GITHUB_API_URL || c.github?.apiUrl || 'https://api.github.com').replace(/\/+$/, '');
  if (env.GITHUB_API_URL && urlCarriesCredentials(env.GITHUB_API_URL))
    throw new RewindError(
      'config_invalid',
      'environment: GITHUB_API_URL: must not carry credentials; set GITHUB_TOKEN or the GITHUB_APP_* variables',
    );
  const config: Config = {
    file,
    github: {
      apiUrl,
      author: c.github?.author ?? { name: 'rewind-bot', email: 'rewind-bot@users.noreply.github.com' },
      auth: githubAuth(env),
    },
    redis: { url: redisUrl, prefix: clusterPrefix(c.redis?.prefix ?? 'rewind', redisTarget) },
    policy: {
      wasm: c.policy?.wasm ?? 'policies/build/policy.wasm',
      data: c.policy?.data ?? 'policies/data.json',
    },
    server: {
      host: env.HOST || '0.0.0.0',
      port: envInt(env, 'PORT', 8080),
      bodyLimit: c.server?.bodyLimit ?? 1024 * 1024,
      connectionTimeout: c.server?.connectionTimeout ?? DEFAULT_TIMEOUTS.connectionTimeout,
      requestTimeout: c.server?.requestTimeout ?? DEFAULT_TIMEOUTS.requestTimeout,
      keepAliveTimeout: c.server?.keepAliveTimeout ?? DEFAULT_TIMEOUTS.keepAliveTimeout,
      webhookToken: readSecret(env, 'REWIND_WEBHOOK_TOKEN'),
    },
    worker: { concurrency: c.worker?.concurrency ?? 2 },
    slackWebhookUrl: readSecret(env, 'SLACK_WEBHOOK_URL'),
    slack: slackBot(env, c, file),
    argocd: argocdSettings(file, c, env),
    fluxReceiverSecret: readSecret(env, 'REWIND_FLUX_RECEIVER_SECRET'),
    dryRun: envBool(env, 'REWIND_DRY_RUN'),
    logLevel: env.LOG_LEVEL || 'info',
    targets: c.targets.map((t) => ({ ...t, reviewers: t.reviewers ?? [] })),
  };
  return deepFreeze(config);
}

/**
 * The `argocd` CLI's ARGOCD_SERVER is usually host[:port] without a scheme; rewind
 * takes both forms (no scheme = https). Needed only when a target names an app.
 */
function argocdSettings(file: string, c: ConfigFile, env: Env): Config['argocd'] {
  c.targets.forEach((t, i) => {
    if (t.verify?.timeout !== undefined && parseDuration(t.verify.timeout) <= 0)
      fail(file, `targets[${i}].verify.timeout`, 'must be longer than 0');
  });
  const raw = (env.ARGOCD_SERVER || c.argocd?.url || '').trim();
  const token = readSecret(env, 'ARGOCD_AUTH_TOKEN');
  const users = c.targets.filter((t) => t.argocd);
  if (!raw) {
    if (users.length)
      fail(file, 'argocd.url', `target ${users[0]?.name} uses Argo CD; set argocd.url or ARGOCD_SERVER`);
    return { url: null, token };
  }
  const url = (/^https?:\/\//i.test(raw) ? raw : `https://${raw}`).replace(/\/+$/, '');
  try {
    new URL(url);
  } catch {
    throw new RewindError(
      'config_invalid',
      `argocd.url / ARGOCD_SERVER: "${raw}" is not a URL or host[:port]`,
    );
  }
  if (users.length && !token)
    throw new RewindError(
      'config_invalid',
      `environment: ARGOCD_AUTH_TOKEN is not set; target ${users[0]?.name} uses Argo CD`,
    );
  return { url, token };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "10m" → 600000; the schema already checked the shape. */
export function parseDuration(text: string): number {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(text);
  if (!m) throw new RewindError('config_invalid', `"${text}" is not a duration like 30s, 10m or 1h`);
  return Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000);
}

export function loadConfig(env: Env, fileOverride?: string): Config {
  const file = fileOverride ?? env.REWIND_CONFIG ?? 'config/rewind.yaml';
  if (!existsSync(file))
    throw new RewindError('config_invalid', `${file}: file not found (set REWIND_CONFIG or --config)`);
  return buildConfig(readFileSync(file, 'utf8'), file, env);
}

/** Files the config points at must exist before anything starts. */
export function checkConfigFiles(config: Config): void {
  for (const [field, path] of [
    ['policy.wasm', config.policy.wasm],
    ['policy.data', config.policy.data],
  ] as const) {
    if (!existsSync(path)) fail(config.file, field, `file not found: ${path}`);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

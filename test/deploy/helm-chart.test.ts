import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { buildConfig } from '../../src/config/config.ts';
import { unknownFields } from '../support/k8s-strict.ts';

// The chart rendered by the real helm for several values sets; every object is
// validated against the Kubernetes (and Prometheus Operator, Flux, Argo CD)
// schemas the kubernetes-models packages ship, offline, and built-in kinds are
// also checked for fields Kubernetes does not have (strict, like kubeconform -strict).

const CHART = 'deploy/helm/rewind';
const VALUES = readdirSync(join(CHART, 'ci')).filter((f) => f.endsWith('-values.yaml'));
const goBin = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).stdout?.trim();
const HELM = spawnSync('helm', ['version', '--short']).status === 0 ? 'helm' : `${goBin}/bin/helm`;
const haveHelm = spawnSync(HELM, ['version', '--short']).status === 0;
const skip = haveHelm ? false : 'helm not installed (go install helm.sh/helm/v3/cmd/helm@v3.22.0)';

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [k: string]: unknown;
};
type Container = {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
};
type PodSpec = {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  volumes?: {
    name: string;
    configMap?: { name: string };
    secret?: { secretName: string; items?: { key: string; path: string }[] };
  }[];
};
type Deployment = K8sObject & {
  spec: { replicas: number; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
};

function helm(args: string[]) {
  const r = spawnSync(HELM, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, out: `${r.stdout}${r.stderr}` };
}

function render(valuesFile: string, set: string[] = []): K8sObject[] {
  const r = helm([
    'template',
    'rewind',
    CHART,
    '--namespace',
    'ops',
    '-f',
    valuesFile,
    ...set.flatMap((s) => ['--set', s]),
  ]);
  assert.equal(r.status, 0, r.out);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** apiVersion + kind → the kubernetes-models class that validates it */
async function validate(obj: K8sObject): Promise<void> {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const pkg = group?.endsWith('monitoring.coreos.com')
    ? '@kubernetes-models/prometheus-operator'
    : group?.endsWith('fluxcd.io')
      ? '@kubernetes-models/flux-cd'
      : group === 'argoproj.io'
        ? '@kubernetes-models/argo-cd'
        : 'kubernetes-models';
  const mod = (await import(`${pkg}/${group ? `${group}/` : ''}${version}/${obj.kind}`)) as Record<
    string,
    new (o: unknown) => { validate(): void }
  >;
  const Model = mod[obj.kind];
  assert.ok(Model, `no schema for ${obj.apiVersion} ${obj.kind}`);
  assert.doesNotThrow(() => new Model(obj).validate(), `${obj.kind}/${obj.metadata.name} against its schema`);
  const unknown = unknownFields(obj);
  if (unknown !== null)
    assert.deepEqual(unknown, [], `${obj.kind}/${obj.metadata.name}: fields Kubernetes does not have`);
}

const byKind = (objs: K8sObject[], kind: string) => objs.filter((o) => o.kind === kind);
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('Helm chart', { skip }, () => {
  for (const file of VALUES) {
    const valuesFile = join(CHART, 'ci', file);
    const values = parse(readFileSync(valuesFile, 'utf8')) as { mode?: string; existingSecret: string };

    test(`${file}: helm lint --strict`, () => {
      const r = helm(['lint', CHART, '--strict', '-f', valuesFile]);
      assert.equal(r.status, 0, r.out);
    });

    test(`${file}: every rendered object is valid against its schema`, async () => {
      const objs = render(valuesFile);
      assert.ok(objs.length >= 5);
      for (const obj of objs) await validate(obj);
      assert.equal(byKind(objs, 'Secret').length, 0, 'the chart never writes a Secret');
    });

    test(`${file}: pods are locked down, probed, resourced, and read config and secrets the way rewind expects`, () => {
      const objs = render(valuesFile);
      const deployments = byKind(objs, 'Deployment') as Deployment[];
      const roles = deployments.map((d) => d.spec.template.spec.containers[0]?.args?.[0]).sort();
      assert.deepEqual(roles, values.mode === 'serve' ? ['serve'] : ['api', 'worker']);
      const configMaps = new Map(
        byKind(objs, 'ConfigMap').map((c) => [
          c.metadata.name,
          c as K8sObject & { data: Record<string, string> },
        ]),
      );
      for (const d of deployments) {
        const pod = d.spec.template.spec;
        assert.equal(pod.securityContext?.runAsNonRoot, true);
        const [c] = pod.containers;
        assert.ok(c);
        assert.deepEqual(
          { ro: c.securityContext?.readOnlyRootFilesystem, esc: c.securityContext?.allowPrivilegeEscalation },
          { ro: true, esc: false },
        );
        assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
        assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
        assert.ok(
          c.ports?.some((p) => p.name === c.readinessProbe?.httpGet?.port && p.containerPort === 8080),
        );
        assert.ok(c.resources?.requests?.memory && c.resources.limits?.memory, 'memory request and limit');
        const env = new Map((c.env ?? []).map((e) => [e.name, e]));
        for (const secret of [
          'GITHUB_TOKEN',
          'REWIND_WEBHOOK_TOKEN',
          'SLACK_WEBHOOK_URL',
          'ARGOCD_AUTH_TOKEN',
        ])
          assert.equal(
            env.get(secret),
            undefined,
            `${secret} is never a literal: it is read from a mounted file`,
          );
        const mounts = c.volumeMounts ?? [];
        assert.ok(
          mounts.every((m) => m.subPath === undefined),
          'no subPath: ConfigMap updates must reach the pod',
        );
        assert.ok(
          mounts.some((m) => m.mountPath === '/tmp'),
          'a writable /tmp under a read-only root',
        );

        // the config rewind reads is the ConfigMap mounted where REWIND_CONFIG points, and rewind accepts it
        const configPath = env.get('REWIND_CONFIG')?.value ?? '';
        const mount = mounts.find((m) => configPath.startsWith(`${m.mountPath}/`));
        const volume = pod.volumes?.find((v) => v.name === mount?.name);
        const cm = configMaps.get(volume?.configMap?.name ?? '');
        assert.ok(mount && cm, `${configPath} comes from a ConfigMap`);
        const text = cm.data[configPath.slice(mount.mountPath.length + 1)] ?? '';
        const dir = mkdtempSync(join(tmpdir(), 'rewind-helm-'));
        const fileEnv: Record<string, string> = {};
        for (const [name, e] of env) {
          if (e.value === undefined) continue;
          if (name.endsWith('_FILE')) {
            writeFileSync(join(dir, name), name === 'GITHUB_APP_PRIVATE_KEY_FILE' ? 'PEM' : 'secret-value');
            fileEnv[name] = join(dir, name);
          } else fileEnv[name] = e.value;
        }
        const config = buildConfig(text, configPath, {
          ...fileEnv,
          REDIS_URL: fileEnv.REDIS_URL ?? 'redis://x:6379',
        });
        assert.ok(config.targets.length > 0);
        // the policy data path is either in the image or a key of the same mounted ConfigMap
        if (config.policy.data.startsWith(`${mount.mountPath}/`)) {
          const data = JSON.parse(cm.data[config.policy.data.slice(mount.mountPath.length + 1)] ?? '') as {
            rewind?: unknown;
          };
          assert.ok(data.rewind, 'policy data under the rewind key');
        } else assert.equal(config.policy.data, '/app/policies/data.json');

        // every *_FILE the container reads is an item of the existing Secret, mounted read-only
        const secretVol = pod.volumes?.find((v) => v.secret);
        assert.equal(secretVol?.secret?.secretName, values.existingSecret);
        const secretMount = mounts.find((m) => m.name === secretVol?.name);
        assert.equal(secretMount?.readOnly, true);
        for (const [name, e] of env) {
          if (!name.endsWith('_FILE')) continue;
          const item = (e.value ?? '').slice((secretMount?.mountPath.length ?? 0) + 1);
          assert.ok(
            secretVol?.secret?.items?.some((i) => i.path === item),
            `${name} → ${item} in the Secret`,
          );
        }
      }
    });

    test(`${file}: Services, PodDisruptionBudgets and the ServiceMonitor select the pods they mean`, () => {
      const objs = render(valuesFile);
      const pods = (byKind(objs, 'Deployment') as Deployment[]).map((d) => d.spec.template.metadata.labels);
      for (const s of byKind(objs, 'Service') as (K8sObject & {
        spec: { selector: Record<string, string>; ports: { name: string; targetPort: string }[] };
      })[]) {
        assert.equal(
          pods.filter((l) => selects(s.spec.selector, l)).length,
          1,
          `${s.metadata.name} selects one Deployment`,
        );
        assert.equal(s.spec.ports[0]?.targetPort, 'http');
      }
      for (const p of byKind(objs, 'PodDisruptionBudget') as (K8sObject & {
        spec: { selector: { matchLabels: Record<string, string> } };
      })[])
        assert.equal(pods.filter((l) => selects(p.spec.selector.matchLabels, l)).length, 1, p.metadata.name);
      const np = byKind(objs, 'NetworkPolicy')[0] as
        (K8sObject & { spec: { podSelector: { matchLabels: Record<string, string> } } }) | undefined;
      if (np)
        assert.ok(
          pods.every((l) => selects(np.spec.podSelector.matchLabels, l)),
          'the NetworkPolicy covers every pod',
        );
      for (const sm of byKind(objs, 'ServiceMonitor') as (K8sObject & {
        spec: {
          selector: { matchLabels: Record<string, string> };
          endpoints: { port: string; path: string }[];
        };
      })[]) {
        const services = byKind(objs, 'Service').filter((s) =>
          selects(sm.spec.selector.matchLabels, s.metadata.labels ?? {}),
        );
        assert.equal(services.length, pods.length, 'every rewind process is scraped');
        assert.deepEqual(
          sm.spec.endpoints.map((e) => [e.port, e.path]),
          [['http', '/metrics']],
        );
      }
      for (const rule of byKind(objs, 'PrometheusRule') as (K8sObject & { spec: unknown })[]) {
        const source = parse(readFileSync('config/prometheus/rewind-rules.yaml', 'utf8')) as unknown;
        assert.deepEqual(rule.spec, source, 'the PrometheusRule carries rewind-rules.yaml unchanged');
      }
    });
  }

  test('the ServiceMonitor and PrometheusRule are rendered when enabled', () => {
    const kinds = render(join(CHART, 'ci/serve-values.yaml')).map((o) => o.kind);
    assert.ok(kinds.includes('ServiceMonitor') && kinds.includes('PrometheusRule'));
    const plain = render(join(CHART, 'ci/split-values.yaml')).map((o) => o.kind);
    assert.ok(!plain.includes('ServiceMonitor') && !plain.includes('PrometheusRule'));
  });

  test('the chart copy of the dashboard is the one tested against Prometheus, shipped for the Grafana sidecar', () => {
    const source = readFileSync('deploy/grafana/rewind-dashboard.json', 'utf8');
    assert.equal(readFileSync(join(CHART, 'files/rewind-dashboard.json'), 'utf8'), source);
    const cm = render(join(CHART, 'ci/serve-values.yaml')).find((o) =>
      o.metadata.name.endsWith('-dashboard'),
    ) as (K8sObject & { data: Record<string, string> }) | undefined;
    assert.equal(cm?.metadata.labels?.grafana_dashboard, '1');
    assert.deepEqual(JSON.parse(cm?.data['rewind-dashboard.json'] ?? ''), JSON.parse(source));
  });

  test('the chart copy of the rules is the file promtool tests', () => {
    assert.equal(
      readFileSync(join(CHART, 'files/rewind-rules.yaml'), 'utf8'),
      readFileSync('config/prometheus/rewind-rules.yaml', 'utf8'),
    );
  });

  test('a policy data change does not restart pods; a config change does', () => {
    const checksum = (set: string[]) => {
      const [d] = byKind(render(join(CHART, 'ci/serve-values.yaml'), set), 'Deployment') as (K8sObject & {
        spec: { template: { metadata: { annotations?: Record<string, string> } } };
      })[];
      return d?.spec.template.metadata.annotations?.['checksum/config'];
    };
    const base = checksum([]);
    assert.ok(base);
    assert.equal(checksum(['policyData.rewind.maxRollbacksPerHour=5']), base);
    assert.notEqual(checksum(['config.worker.concurrency=8']), base);
  });

  test('refuses to render without a Secret, without targets, or with an unknown mode', () => {
    const values = join(CHART, 'ci/split-values.yaml');
    const noSecret = helm(['template', 'r', CHART, '-f', values, '--set', 'existingSecret=']);
    assert.notEqual(noSecret.status, 0);
    assert.match(noSecret.out, /existingSecret: name the Secret/);
    const noTargets = helm(['template', 'r', CHART, '--set', 'existingSecret=s']);
    assert.notEqual(noTargets.status, 0);
    assert.match(noTargets.out, /config\.targets: configure at least one target/);
    const badMode = helm(['template', 'r', CHART, '-f', values, '--set', 'mode=both']);
    assert.notEqual(badMode.status, 0);
    assert.match(badMode.out, /mode must be split or serve/);
  });
});

test('the strict field check finds misspelt fields at any depth, and leaves custom kinds to their schema', () => {
  const pod = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', labelz: {} },
    spec: {
      template: { spec: { containers: [{ name: 'c', readinesProbe: {}, env: [{ name: 'A', valu: '1' }] }] } },
    },
  };
  assert.deepEqual(unknownFields(pod), [
    '.metadata.labelz',
    '.spec.template.spec.containers[0].readinesProbe',
    '.spec.template.spec.containers[0].env[0].valu',
  ]);
  assert.equal(unknownFields({ apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' }), null);
});

describe('example manifests for Flux and Argo CD', () => {
  for (const file of readdirSync(join(CHART, 'examples'))) {
    test(`${file}: every object is valid against its schema`, async () => {
      const objs = parseAllDocuments(readFileSync(join(CHART, 'examples', file), 'utf8')).map(
        (d) => d.toJS() as K8sObject,
      );
      assert.ok(objs.length > 0);
      for (const obj of objs) await validate(obj);
    });
  }

  test(
    'the Flux Provider posts to the rewind API Service the chart creates, on /v1/flux/events',
    { skip },
    () => {
      const flux = parseAllDocuments(readFileSync(join(CHART, 'examples/flux.yaml'), 'utf8')).map(
        (d) => d.toJS() as K8sObject & { spec: { address?: string } },
      );
      const address = new URL(flux.find((o) => o.kind === 'Provider')?.spec.address ?? '');
      const [service, namespace] = address.hostname.split('.');
      const objs = render(join(CHART, 'ci/split-values.yaml'));
      const svc = byKind(objs, 'Service').find((s) => s.metadata.name === service) as
        (K8sObject & { spec: { ports: { port: number }[] } }) | undefined;
      assert.ok(svc, `${service} is a Service of release "rewind"`);
      assert.equal(namespace, 'rewind');
      assert.equal(Number(address.port), svc.spec.ports[0]?.port);
      assert.equal(address.pathname, '/v1/flux/events');
    },
  );

  test('the Argo CD account may only get and sync applications', () => {
    const docs = parseAllDocuments(readFileSync(join(CHART, 'examples/argocd.yaml'), 'utf8')).map(
      (d) => d.toJS() as K8sObject & { data: Record<string, string> },
    );
    assert.equal(docs.find((d) => d.metadata.name === 'argocd-cm')?.data['accounts.rewind'], 'apiKey');
    const policy = docs.find((d) => d.metadata.name === 'argocd-rbac-cm')?.data['policy.csv'] ?? '';
    const lines = policy
      .trim()
      .split('\n')
      .map((l) => l.split(',').map((s) => s.trim()));
    assert.ok(lines.length > 0);
    for (const [p, subject, resource, action, object, effect] of lines) {
      assert.deepEqual([p, subject, resource, effect], ['p', 'rewind', 'applications', 'allow']);
      assert.ok(action === 'get' || action === 'sync', action);
      assert.doesNotMatch(object ?? '', /\*/, 'named applications only');
    }
  });
});

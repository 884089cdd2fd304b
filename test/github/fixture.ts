/** Shared setup for the adapter tests: an emulator with a small GitOps repo and a real Octokit pointed at it. */
import { createGitHubRepository, createOctokit, type GitHubMetrics } from '../../src/github/index.ts';
import type { ChangeRequest, FileRef, GitOpsRepository, HeadFile } from '../../src/core/ports.ts';
import { startGitHubEmulator, type GitHubEmulator } from '../support/github-emulator.ts';

export const PATH = 'apps/checkout/overlays/prod/kustomization.yaml';

export const kustomization = (tag: string, replicas = 3): string =>
  `# checkout, prod\nresources:\n  - ../../base\nreplicas:\n  - name: checkout\n    count: ${replicas}\nimages:\n  - name: registry.example.com/acme/checkout\n    newTag: ${tag} # pinned by CI\n`;

export const FILE: FileRef = { owner: 'acme', repo: 'gitops', branch: 'main', path: PATH };

export interface Fixture {
  emulator: GitHubEmulator;
  repo: GitOpsRepository;
  counts: Map<string, number>;
  warnings: string[];
  close(): Promise<void>;
}

export async function startFixture(opts: { retries?: number; token?: string } = {}): Promise<Fixture> {
  const emulator = await startGitHubEmulator();
  emulator.seedRepo({
    owner: 'acme',
    repo: 'gitops',
    commits: [
      { message: 'chore: bootstrap', files: { 'README.md': '# gitops\n', [PATH]: kustomization('v1.0.0') } },
      { message: 'release checkout v1.1.0', files: { [PATH]: kustomization('v1.1.0') } },
      { message: 'docs', files: { 'README.md': '# gitops repo\n' } },
      { message: 'release checkout v1.2.0', files: { [PATH]: kustomization('v1.2.0') } },
    ],
  });
  const counts = new Map<string, number>();
  const warnings: string[] = [];
  const metrics: GitHubMetrics = {
    githubRequests: {
      inc: (l) => counts.set(`${l.method} ${l.status}`, (counts.get(`${l.method} ${l.status}`) ?? 0) + 1),
    },
  };
  const log = () => {};
  const logger = {
    debug: log,
    info: log,
    error: log,
    warn: (o: object, m?: string) => warnings.push(`${m ?? ''} ${JSON.stringify(o)}`),
  };
  const octokit = createOctokit({
    baseUrl: emulator.url,
    auth: { token: opts.token ?? 'test-token' },
    retries: opts.retries ?? 0,
    retryAfterBaseMs: 1,
    spaceWrites: false,
    metrics,
    logger,
  });
  return {
    emulator,
    repo: createGitHubRepository({ octokit, logger }),
    counts,
    warnings,
    close: () => emulator.close(),
  };
}

export function changeRequest(base: HeadFile, overrides: Partial<ChangeRequest> = {}): ChangeRequest {
  return {
    file: FILE,
    base,
    headBranch: 'rewind/checkout-prod/v1.1.0',
    content: base.content.replace('newTag: v1.2.0', 'newTag: v1.1.0'),
    commitMessage:
      'fix(prod): roll back checkout-prod to v1.1.0\n\n- From: v1.2.0\n\nRewind-Remediation: r1\nRewind-Rolled-Back-From: v1.2.0',
    author: { name: 'rewind-bot', email: 'rewind-bot@users.noreply.github.com' },
    title: 'fix(prod): roll back checkout-prod to v1.1.0',
    body: 'Rolls back **checkout-prod**.',
    labels: ['env:prod'],
    reviewers: ['octocat'],
    ...overrides,
  };
}

import type { GitHubEmulator } from './github-emulator.ts';

export const SAMPLE_PATH = 'apps/checkout/overlays/prod/kustomization.yaml';
export const SAMPLE_IMAGE = 'registry.example.com/acme/checkout';

/** The prod overlay as a team would write it: comments, blank lines, quoting and other images must survive. */
export function kustomization(tag: string): string {
  return `# Production overlay for checkout. Owned by team-payments.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization

resources:
  - ../../base

images:
  - name: ${SAMPLE_IMAGE}
    newTag: ${tag} # bumped by CI on release
  - name: registry.example.com/acme/checkout-sidecar
    newTag: "2.4.1"

patches:
  - path: replicas.yaml
`;
}

/**
 * Seed acme/gitops: the checkout prod overlay goes v1.0.0 → v1.1.0 → v1.2.0 over
 * three commits, the last at `releasedAt`.
 */
export function seedSampleRepo(gh: GitHubEmulator, releasedAt: Date, owner = 'acme', repo = 'gitops') {
  const at = (minutesBefore: number) => new Date(releasedAt.getTime() - minutesBefore * 60_000);
  return gh.seedRepo({
    owner,
    repo,
    defaultBranch: 'main',
    commits: [
      {
        message: 'feat(checkout): deploy v1.0.0',
        files: {
          [SAMPLE_PATH]: kustomization('v1.0.0'),
          'apps/checkout/base/kustomization.yaml': 'resources:\n  - deployment.yaml\n',
          'README.md': '# acme/gitops\n',
        },
        date: at(3 * 24 * 60),
      },
      {
        message: 'chore(checkout): release v1.1.0',
        files: { [SAMPLE_PATH]: kustomization('v1.1.0') },
        date: at(26 * 60),
      },
      {
        message: 'chore(checkout): release v1.2.0',
        files: { [SAMPLE_PATH]: kustomization('v1.2.0') },
        date: releasedAt,
      },
    ],
  });
}

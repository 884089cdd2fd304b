/**
 * Lifting a hold (`rewind release <target>`, POST /v1/targets/{name}/release):
 * one pull request that restores the held Flux markers byte for byte and
 * deletes the lines the hold added to the Image Updater ignore list. It is
 * never merged by rewind: lifting a hold is a human decision. Also the target
 * view of GET /v1/targets (current version, active hold, last remediation).
 */
import { REWIND_LABEL } from '../core/plan.ts';
import { RewindError } from '../core/errors.ts';
import type { FileRef, GitOpsRepository, HeadFile, PullRequest } from '../core/ports.ts';
import type { TargetIndex } from '../core/targets.ts';
import type { Target } from '../core/types.ts';
import { formatVersion } from '../core/version.ts';
import { extractVersion } from '../manifests/index.ts';
import { countHeldMarkers, releaseMarkers } from '../manifests/hold/markers.ts';
import { heldTags, releaseIgnoredTags } from '../manifests/hold/ignore-list.ts';
import type { AuditStore } from '../audit/store.ts';
import { refComponent } from '../core/text.ts';

export interface Hold {
  /** Flux setter markers held in the target file */
  markers: number;
  /** tags held in the Image Updater file */
  ignoredTags: string[];
  active: boolean;
}

export interface ReleaseResult {
  pullRequest: { number: number; url: string; branch: string };
  released: { markers: number; tags: string[] };
}

export interface ReleaseDeps {
  repo: GitOpsRepository;
  targets: TargetIndex;
  /** for the last remediation in list(); release() needs only Git */
  store?: AuditStore;
  author: { name: string; email: string };
}

/** Outside `rewind/<target>/`, so a rollback never mistakes it for its own open PR. */
export const releaseBranch = (t: Target) => `rewind-release/${refComponent(t.name)}`;

function refOf(t: Target, path = t.path): FileRef {
  const [owner = '', repo = ''] = t.repo.split('/');
  return { owner, repo, branch: t.branch, path };
}

async function read(deps: ReleaseDeps, t: Target) {
  const main = await deps.repo.readFile(refOf(t));
  const holdPath = t.hold?.imageUpdater;
  const holdFile = holdPath ? await deps.repo.readFile(refOf(t, holdPath)).catch(() => null) : null;
  return { main, holdPath, holdFile };
}

function holdOf(main: HeadFile, holdFile: HeadFile | null): Hold {
  const markers = countHeldMarkers(main.content);
  const ignoredTags = holdFile ? heldTags(holdFile.content) : [];
  return { markers, ignoredTags, active: markers > 0 || ignoredTags.length > 0 };
}

export function createReleaser(deps: ReleaseDeps) {
  function target(name: string): Target {
    const t = deps.targets.byName(name);
    if (!t) throw new RewindError('not_found', `no target "${name}"`);
    return t;
  }

  async function status(t: Target) {
    const last = deps.store ? (await deps.store.list({ target: t.name, limit: 1 }))[0] : undefined;
    const base = {
      name: t.name,
      environment: t.environment,
      repo: t.repo,
      path: t.path,
      image: t.image,
      lastRemediation: last ? { id: last.id, state: last.state, createdAt: last.createdAt } : null,
    };
    try {
      const { main, holdFile } = await read(deps, t);
      const version = formatVersion(
        extractVersion(main.content, { image: t.image, ...(t.tagKey ? { tagKey: t.tagKey } : {}) }, t.path),
      );
      return { ...base, currentVersion: version, hold: holdOf(main, holdFile), error: null };
    } catch (err) {
      return { ...base, currentVersion: null, hold: null, error: (err as Error).message };
    }
  }

  return {
    async list() {
      return Promise.all(deps.targets.all().map((t) => status(t)));
    },

    async release(name: string): Promise<ReleaseResult | null> {
      const t = target(name);
      const { main, holdPath, holdFile } = await read(deps, t);
      const markers = releaseMarkers(main.content);
      const tags = holdFile ? releaseIgnoredTags(holdFile.content) : { content: '', released: [] };
      const files = [
        ...(markers.released ? [{ path: t.path, content: markers.content, base: main }] : []),
        ...(holdFile && holdPath && tags.released.length
          ? [{ path: holdPath, content: tags.content, base: holdFile }]
          : []),
      ];
      const [first, ...rest] = files;
      if (!first) return null;
      const title = `chore(${t.environment}): release the rewind hold on ${t.name}`;
      const what = [
        ...(markers.released
          ? [`- restores ${markers.released} Flux \`$imagepolicy\` marker(s) in \`${t.path}\``]
          : []),
        ...(tags.released.length
          ? [
              `- removes ${tags.released.map((x) => `\`${x}\``).join(', ')} from the ignore list in \`${holdPath}\``,
            ]
          : []),
      ].join('\n');
      const pr: PullRequest = await deps.repo.proposeChange({
        file: refOf(t, first.path),
        base: first.base,
        headBranch: releaseBranch(t),
        content: first.content,
        ...(rest.length ? { extraFiles: rest.map((f) => ({ path: f.path, content: f.content })) } : {}),
        commitMessage: `${title}\n\n${what}\n`,
        author: deps.author,
        title,
        body: `The image auto-updater may update **${t.name}** again once this merges:\n\n${what}`,
        labels: [REWIND_LABEL],
        reviewers: t.reviewers,
      });
      return {
        pullRequest: { number: pr.number, url: pr.htmlUrl, branch: pr.headBranch },
        released: { markers: markers.released, tags: tags.released },
      };
    },
  };
}

export type Releaser = ReturnType<typeof createReleaser>;
export type TargetStatus = Awaited<ReturnType<Releaser['list']>>[number];

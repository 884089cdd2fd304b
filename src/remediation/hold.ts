/**
 * The hold's second file (SPEC "Hold"): the tag rolled back from goes into the
 * Image Updater ignore list named by `hold.imageUpdater`, in the rollback commit.
 * A hold that cannot be written never blocks the rollback: the PR says why.
 */
import { errorMessage, RewindError } from '../core/errors.ts';
import type { HoldPlan } from '../core/plan.ts';
import type { GitOpsRepository } from '../core/ports.ts';
import type { ImageVersion, Target } from '../core/types.ts';
import { addIgnoredTag } from '../manifests/hold/ignore-list.ts';

export async function planHold(
  repo: GitOpsRepository,
  target: Target,
  from: ImageVersion,
  markers: number,
): Promise<HoldPlan> {
  const path = target.hold?.imageUpdater;
  if (!path) return { markers };
  if (from.tag === undefined)
    return { markers, problem: `${path}: a digest-only version has no tag to ignore` };
  try {
    const [owner = '', name = ''] = target.repo.split('/');
    const file = await repo.readFile({ owner, repo: name, branch: target.branch, path });
    return {
      markers,
      ignoreFile: { path, content: addIgnoredTag(file.content, target.image, from.tag, path) },
    };
  } catch (err) {
    if (err instanceof RewindError && err.retryable) throw err;
    return { markers, problem: errorMessage(err) };
  }
}

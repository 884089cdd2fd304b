/** `rewind release <target>`: open the pull request that lifts a target's hold. Needs GitHub only. */
import type { Config } from '../config/config.ts';
import { RewindError } from '../core/errors.ts';
import { buildTargetIndex } from '../core/targets.ts';
import { createGitHubRepository, createOctokit } from '../github/index.ts';
import { createReleaser } from '../remediation/release.ts';

export async function runRelease(config: Config, name: string, print: (s: string) => void): Promise<number> {
  if (config.github.auth.kind === 'none')
    throw new RewindError('config_invalid', 'environment: set GITHUB_TOKEN or the GITHUB_APP_* variables');
  const octokit = createOctokit({ baseUrl: config.github.apiUrl, auth: config.github.auth });
  const releaser = createReleaser({
    repo: createGitHubRepository({ octokit }),
    targets: buildTargetIndex(config.targets),
    author: config.github.author,
  });
  const res = await releaser.release(name);
  if (!res) {
    print(`${name}: no active hold (no held Flux marker, no held tag in the ignore list)`);
    return 3;
  }
  print(`${name}: pull request #${res.pullRequest.number} lifts the hold: ${res.pullRequest.url}`);
  if (res.released.markers) print(`  restores ${res.released.markers} Flux $imagepolicy marker(s)`);
  if (res.released.tags.length) print(`  un-ignores ${res.released.tags.join(', ')}`);
  return 0;
}

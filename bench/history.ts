// History walk cost: rewind's GraphQL walk (file content inline, first page 5,
// then 100) against the REST alternative (commits?path= pages of 100, plus one
// contents request per commit read), on the GitHub API emulator over loopback.
// The walk reads the file's whole history ("never rolled back from" needs every
// trailer), so the cost grows with the history's length, not the target's depth.
// Requests are what matter against api.github.com (rate limit and ~100-300 ms
// each); loopback milliseconds only show the shape.
//
//   npx tsx bench/history.ts
import { performance } from 'node:perf_hooks';
import { analyzeHistory } from '../src/core/rollback.ts';
import type { FileCommit, ImageVersion } from '../src/core/types.ts';
import { createGitHubRepository, createOctokit, type GitHubClient } from '../src/github/index.ts';
import { startGitHubEmulator } from '../test/support/github-emulator.ts';

const PATH = 'apps/checkout/overlays/prod/kustomization.yaml';
const LENGTHS = [10, 100, 500, 2000];

const file = (tag: string, n: number): string =>
  `images:\n  - name: checkout\n    newTag: ${tag}\n# build ${n}\n`;
const versionOf = (text: string): ImageVersion | null => {
  const m = /newTag: (\S+)/.exec(text);
  return m?.[1] === undefined ? null : { tag: m[1] };
};

/** The REST walk rewind does not use: listing is cheap, but each commit's content costs a request. */
async function* restHistory(octokit: GitHubClient, owner: string, repo: string): AsyncGenerator<FileCommit> {
  for await (const page of octokit.paginate.iterator(octokit.rest.repos.listCommits, {
    owner,
    repo,
    sha: 'main',
    path: PATH,
    per_page: 100,
  })) {
    for (const c of page.data) {
      const res = await octokit.rest.repos.getContent({ owner, repo, path: PATH, ref: c.sha });
      const data = res.data;
      const content =
        !Array.isArray(data) && 'content' in data
          ? Buffer.from(data.content, 'base64').toString('utf8')
          : null;
      yield { sha: c.sha, message: c.commit.message, committedAt: c.commit.committer?.date ?? '', content };
    }
  }
}

const emulator = await startGitHubEmulator();
try {
  for (const total of LENGTHS) {
    emulator.seedRepo({
      owner: 'acme',
      repo: `h${total}`,
      // the newest commit releases v2; every older one pins v1
      commits: Array.from({ length: total }, (_, i) => ({
        message: `c${i}`,
        files: { [PATH]: file(i === total - 1 ? 'v2' : 'v1', i) },
      })),
    });
  }
  const octokit = createOctokit({
    baseUrl: emulator.url,
    auth: { token: 'test-token' },
    retries: 0,
    spaceWrites: false,
  });
  const repo = createGitHubRepository({ octokit });
  console.log('rollback target found in a file history of N commits (all read for trailers)');
  console.log('commits  graphql req  rest req  ratio  graphql ms  rest ms');
  for (const total of LENGTHS) {
    const measure = async (history: AsyncIterable<FileCommit>) => {
      emulator.clearRequests();
      const t0 = performance.now();
      const a = await analyzeHistory(history, versionOf, { tag: 'v2' });
      if (a.commitsRead !== total || a.candidate?.to.tag !== 'v1')
        throw new Error(`${total}: read ${a.commitsRead}`);
      return { requests: emulator.requests.length, ms: performance.now() - t0 };
    };
    const g = await measure(
      repo.fileHistory({ owner: 'acme', repo: `h${total}`, branch: 'main', path: PATH }),
    );
    const r = await measure(restHistory(octokit, 'acme', `h${total}`));
    console.log(
      `${String(total).padStart(7)}  ${String(g.requests).padStart(11)}  ${String(r.requests).padStart(8)}  ${(r.requests / g.requests).toFixed(1).padStart(5)}x  ${g.ms.toFixed(0).padStart(10)}  ${r.ms.toFixed(0).padStart(7)}`,
    );
  }
  emulator.assertNoUnknownRequests();
} finally {
  await emulator.close();
}

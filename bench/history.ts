// History walk cost: rewind's first-parent walk (rev-parse aliases, 100
// commits per request, blob texts pipelined) cold and warm (the Redis history
// cache), against the REST alternative (commits?path= pages of 100, plus one
// contents request per commit read), in the same run, on the GitHub API
// emulator over loopback. Then every GitHub request of a whole auto-merged
// rollback (read file, history, branch, commit, PR, merge), cold and warm.
// Requests are what matter against api.github.com (rate limit and ~100-300 ms
// each); loopback milliseconds only show the shape.
//
//   npx tsx bench/history.ts
import { performance } from 'node:perf_hooks';
import { analyzeHistory } from '../src/core/rollback.ts';
import type { FileCommit, ImageVersion, Target } from '../src/core/types.ts';
import { createGitHubRepository, createOctokit, type GitHubClient } from '../src/github/index.ts';
import { createRedisHistoryCache } from '../src/history/redis-cache.ts';
import { readHistory } from '../src/remediation/decide.ts';
import { buildPlan } from '../src/core/plan.ts';
import { replaceVersion } from '../src/manifests/index.ts';
import { startGitHubEmulator } from '../test/support/github-emulator.ts';
import { dropPrefix, testRedis, uniquePrefix } from '../test/support/redis.ts';

const PATH = 'apps/checkout/overlays/prod/kustomization.yaml';
const IMAGE = 'registry.example.com/acme/checkout';
const LENGTHS = [10, 300, 3000];

const file = (tag: string, n: number): string =>
  `images:\n  - name: ${IMAGE}\n    newTag: ${tag}\n# build ${n}\n`;
const versionOf = (text: string): ImageVersion | null => {
  const m = /newTag: (\S+)/.exec(text);
  return m?.[1] === undefined ? null : { tag: m[1] };
};
const target = (repo: string): Target => ({
  name: 'checkout-prod',
  match: {},
  repo: `acme/${repo}`,
  branch: 'main',
  path: PATH,
  image: IMAGE,
  environment: 'prod',
  reviewers: [],
});

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
const redis = testRedis();
const prefix = uniquePrefix('bench-history');
try {
  const seed = (name: string, total: number) =>
    emulator.seedRepo({
      owner: 'acme',
      repo: name,
      // the newest commit releases v2; every older one pins v1
      commits: Array.from({ length: total }, (_, i) => ({
        message: `c${i}`,
        files: { [PATH]: file(i === total - 1 ? 'v2' : 'v1', i) },
      })),
    });
  for (const total of LENGTHS) {
    seed(`h${total}`, total);
    seed(`r${total}`, total);
  }
  const octokit = createOctokit({
    baseUrl: emulator.url,
    auth: { token: 'test-token' },
    retries: 0,
    spaceWrites: false,
  });
  const repo = createGitHubRepository({ octokit });
  const historyCache = createRedisHistoryCache({ redis, prefix });
  const deps = { repo, historyCache };

  console.log('history of N commits, every one touching the file (all read for trailers); requests and ms');
  console.log('commits   rest req  cold req  warm req  rest/cold  rest ms  cold ms  warm ms');
  for (const total of LENGTHS) {
    emulator.clearRequests();
    let t0 = performance.now();
    const rest = await analyzeHistory(restHistory(octokit, 'acme', `h${total}`), versionOf, { tag: 'v2' });
    const r = { requests: emulator.requests.length, ms: performance.now() - t0 };
    if (rest.commitsRead !== total || rest.candidate?.to.tag !== 'v1') throw new Error(`rest ${total}`);
    const measure = async () => {
      emulator.clearRequests();
      t0 = performance.now();
      const { analysis } = await readHistory(deps, target(`h${total}`));
      if (analysis.commitsRead !== total || analysis.candidate?.to.tag !== 'v1')
        throw new Error(`${total}: read ${analysis.commitsRead}`);
      return { requests: emulator.requests.length, ms: performance.now() - t0 };
    };
    const cold = await measure();
    const warm = await measure();
    console.log(
      `${String(total).padStart(7)}  ${String(r.requests).padStart(9)}  ${String(cold.requests).padStart(8)}  ${String(warm.requests).padStart(8)}  ${(r.requests / cold.requests).toFixed(1).padStart(8)}x  ${r.ms.toFixed(0).padStart(7)}  ${cold.ms.toFixed(0).padStart(7)}  ${warm.ms.toFixed(0).padStart(7)}`,
    );
  }
  console.log(
    '(cold and warm include the readFile of the head: 2 requests; warm reads no history at an unchanged head)',
  );

  // A whole auto-merged rollback: what the worker sends, in order, through the real adapter.
  console.log(
    '\nevery GitHub request of one auto-merged rollback (read + history + branch + commit + PR + merge)',
  );
  for (const total of LENGTHS) {
    const t = target(`r${total}`);
    const ref = { owner: 'acme', repo: `r${total}`, branch: 'main', path: PATH };
    const rollback = async (warmFirst: boolean) => {
      if (warmFirst) await readHistory(deps, t); // worker start-up
      emulator.clearRequests();
      const { head, analysis } = await readHistory(deps, t);
      const candidate = analysis.candidate;
      if (candidate === null) throw new Error('no candidate');
      await repo.findOpenPullRequest(ref, 'rewind/checkout-prod/');
      const plan = buildPlan({
        remediationId: 'bench',
        target: t,
        lead: {
          status: 'firing',
          labels: { alertname: 'HighErrorRate', severity: 'critical' },
          annotations: {},
          startsAt: '2026-11-26T10:01:00Z',
          endsAt: '0001-01-01T00:00:00Z',
          fingerprint: 'f',
          generatorURL: '',
        },
        alertCount: 1,
        current: analysis.current,
        candidate,
        decision: { allow: true, mode: 'merge', reasons: ['bench'], labels: [] },
        content: replaceVersion(head.content, { image: IMAGE }, candidate.to, PATH),
      });
      const pr = await repo.proposeChange({
        file: ref,
        base: head,
        headBranch: plan.headBranch,
        content: plan.content,
        commitMessage: plan.commitMessage,
        author: { name: 'rewind-bot', email: 'rewind-bot@users.noreply.github.com' },
        title: plan.title,
        body: plan.prBody,
        labels: plan.labels,
        reviewers: [],
      });
      // the processor's "base unchanged" check: a re-read only when GitHub saw another base head
      if (pr.baseShaAtCreation !== head.commitSha) await repo.readFile(ref);
      await repo.mergePullRequest({
        repo: ref,
        number: pr.number,
        headSha: pr.headSha,
        commitTitle: plan.mergeTitle,
        commitMessage: plan.mergeBody,
      });
      const sent = emulator.requests.map(
        (r) => `${r.method} ${r.operationName ?? r.path.replace(`/repos/acme/r${total}`, '')}`,
      );
      // GitHub's "automatically delete head branches", so the next rollback starts clean
      await octokit.rest.git.deleteRef({ owner: 'acme', repo: `r${total}`, ref: `heads/${plan.headBranch}` });
      return sent;
    };
    const cold = await rollback(false);
    // undo on main so the same rollback can be made again, warm this time
    emulator.commit({
      owner: 'acme',
      repo: `r${total}`,
      branch: 'main',
      message: 'release v2 again',
      files: { [PATH]: file('v2', total) },
    });
    const warm = await rollback(true);
    console.log(
      `${String(total).padStart(7)} commits: cold ${cold.length} requests, warm ${warm.length} requests`,
    );
    if (total === LENGTHS[LENGTHS.length - 1]) console.log(`  warm: ${warm.join(', ')}`);
  }
  emulator.assertNoUnknownRequests();
} finally {
  await dropPrefix(redis, prefix);
  redis.disconnect();
  await emulator.close();
}

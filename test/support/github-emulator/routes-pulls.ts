/** Pull requests: list, create, update, squash/merge, labels, reviewers, comments, files. */
import { RepoModel, blobSha, type PullState } from './git-model.ts';
import { unifiedPatch } from './diff.ts';
import {
  HttpError,
  field,
  paginate,
  stringField,
  validationFailed,
  type RequestContext,
  type Route,
} from './http.ts';
import { labelJson, pullJson } from './render.ts';

const REPO = '/repos/([^/]+)/([^/]+)';

function repoOf(ctx: RequestContext): RepoModel {
  return ctx.repo(ctx.params[0] ?? '', ctx.params[1] ?? '');
}

function pullOf(ctx: RequestContext, repo: RepoModel): PullState {
  const pr = repo.pull(Number(ctx.params[2]));
  if (pr === undefined) throw new HttpError(404, 'Not Found');
  return pr;
}

/** The files a pull request changes: head against the merge base with its base branch (GitHub's three-dot diff). */
export function pullChanges(
  repo: RepoModel,
  pr: PullState,
): { path: string; before: string | undefined; after: string | undefined }[] {
  const baseSha = repo.refs.get(pr.baseRef);
  const mb = baseSha === undefined ? undefined : repo.mergeBase(baseSha, pr.headSha);
  const from = mb === undefined ? new Map<string, string>() : repo.commit(mb).tree;
  const to = repo.commit(pr.headSha).tree;
  return RepoModel.changedPaths(from, to).map((path) => ({
    path,
    before: from.get(path),
    after: to.get(path),
  }));
}

function listPulls(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const state = ctx.query.get('state') ?? 'open';
  const head = ctx.query.get('head');
  const base = ctx.query.get('base');
  const matches = repo
    .allPulls()
    .filter((p) => state === 'all' || p.state === state)
    .filter((p) => head === null || head === `${repo.owner}:${p.headRef}`)
    .filter((p) => base === null || base === p.baseRef)
    .reverse(); // newest first, GitHub's default (sort=created, direction=desc)
  const { page, headers } = paginate(matches, ctx, `/repos/${repo.fullName}/pulls`);
  return { status: 200, body: page.map((p) => pullJson(repo, p, ctx.baseUrl, false)), headers };
}

function createPull(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const title = stringField(ctx.body, 'title');
  const headParam = stringField(ctx.body, 'head');
  const base = stringField(ctx.body, 'base');
  if (title === undefined || headParam === undefined || base === undefined) {
    throw new HttpError(422, 'Invalid request.\n\n"title", "head" and "base" are required.');
  }
  const headRef = headParam.includes(':') ? headParam.slice(headParam.indexOf(':') + 1) : headParam;
  if (headParam.includes(':') && !headParam.startsWith(`${repo.owner}:`)) {
    throw validationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
  }
  const headSha = repo.refs.get(headRef);
  const baseSha = repo.refs.get(base);
  if (headSha === undefined)
    throw validationFailed([{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
  if (baseSha === undefined)
    throw validationFailed([{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
  if (repo.allPulls().some((p) => p.state === 'open' && p.headRef === headRef && p.baseRef === base)) {
    throw validationFailed([
      {
        resource: 'PullRequest',
        code: 'custom',
        message: `A pull request already exists for ${repo.owner}:${headRef}.`,
      },
    ]);
  }
  if (repo.ancestors(baseSha).has(headSha)) {
    throw validationFailed([
      { resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${headRef}` },
    ]);
  }
  const now = ctx.now().toISOString();
  const pr: PullState = {
    number: repo.pulls.length + 1,
    id: repo.nextId(),
    title,
    body: stringField(ctx.body, 'body') ?? null,
    user: ctx.login,
    headRef,
    headSha,
    baseRef: base,
    state: 'open',
    merged: false,
    mergedAt: null,
    mergeCommitSha: null,
    labels: [],
    requestedReviewers: [],
    comments: [],
    createdAt: now,
    updatedAt: now,
    closedAt: null,
  };
  repo.pulls.push(pr);
  return { status: 201, body: pullJson(repo, pr, ctx.baseUrl, true) };
}

function getPull(ctx: RequestContext) {
  const repo = repoOf(ctx);
  return { status: 200, body: pullJson(repo, pullOf(ctx, repo), ctx.baseUrl, true) };
}

function updatePull(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const pr = pullOf(ctx, repo);
  const now = ctx.now().toISOString();
  const title = stringField(ctx.body, 'title');
  const body = stringField(ctx.body, 'body');
  const state = stringField(ctx.body, 'state');
  if (title !== undefined) pr.title = title;
  if (body !== undefined) pr.body = body;
  if (state === 'closed' && pr.state === 'open') {
    pr.state = 'closed';
    pr.closedAt = now;
  } else if (state === 'open' && pr.state === 'closed') {
    if (pr.merged || !repo.refs.has(pr.headRef))
      throw validationFailed([
        { resource: 'PullRequest', code: 'custom', message: 'state cannot be changed.' },
      ]);
    pr.state = 'open';
    pr.closedAt = null;
  }
  pr.updatedAt = now;
  return { status: 200, body: pullJson(repo, pr, ctx.baseUrl, true) };
}

/** The first required status check of the PR's base that has not succeeded on its head, if any. */
export function pendingCheck(repo: RepoModel, pr: PullState): string | undefined {
  const states = repo.checks.get(pr.headSha);
  return (repo.requiredChecks.get(pr.baseRef) ?? []).find((c) => states?.get(c) !== 'success');
}

/** A merge as GitHub's merge button does it; refused as GitHub refuses it. */
export function performMerge(
  repo: RepoModel,
  pr: PullState,
  opts: {
    method: string;
    title: string | undefined;
    message: string | undefined;
    sha?: string | undefined;
    now: Date;
  },
): { sha: string } {
  if (pr.state !== 'open' || !repo.refs.has(pr.headRef))
    throw new HttpError(405, 'Pull Request is not mergeable');
  if (opts.sha !== undefined && opts.sha !== pr.headSha)
    throw new HttpError(409, 'Head branch was modified. Review and try the merge again.');
  const method = opts.method;
  if (method !== 'merge' && method !== 'squash')
    throw new HttpError(405, `${method} merges are not allowed on this repository.`);
  const missing = pendingCheck(repo, pr);
  // GitHub's answer for a protected base whose required check has not passed on the head
  if (missing !== undefined) throw new HttpError(405, `Required status check "${missing}" is expected.`);
  const baseSha = repo.refs.get(pr.baseRef);
  if (baseSha === undefined) throw new HttpError(405, 'Pull Request is not mergeable');
  const base = repo.commit(baseSha);
  const head = repo.commit(pr.headSha);
  // A file-level three-way merge: stricter than git's line-level one, which is fine for an emulator.
  const tree = new Map(base.tree);
  for (const { path, before, after } of pullChanges(repo, pr)) {
    const ours = base.tree.get(path);
    if (ours !== before && ours !== after) throw new HttpError(405, 'Pull Request is not mergeable');
    if (after === undefined) tree.delete(path);
    else tree.set(path, after);
  }
  const now = opts.now.toISOString();
  const { title, message } = opts;
  const committer = { name: 'GitHub', email: 'noreply@github.com', date: now };
  let fullMessage: string;
  if (method === 'squash') {
    const commits = [...repo.firstParentLog(pr.headSha)].filter((c) => !repo.ancestors(baseSha).has(c.sha));
    const only = commits.length === 1 ? commits[0] : undefined;
    const [subject = '', ...rest] = (only?.message ?? '').split(/\n\s*\n/);
    const defaults = repo.squashDefaults;
    const defaultTitle =
      defaults.title === 'COMMIT_OR_PR_TITLE' && only !== undefined ? subject.trim() : pr.title;
    const defaultBody =
      defaults.message === 'PR_BODY'
        ? (pr.body ?? '')
        : defaults.message === 'BLANK'
          ? ''
          : only !== undefined
            ? rest.join('\n\n').trim()
            : commits.map((c) => `* ${c.message}`).join('\n\n');
    const body = message ?? defaultBody;
    fullMessage = `${title ?? `${defaultTitle} (#${pr.number})`}${body === '' ? '' : `\n\n${body}`}`;
  } else {
    const body = message ?? pr.title;
    fullMessage = `${title ?? `Merge pull request #${pr.number} from ${repo.owner}/${pr.headRef}`}${body === '' ? '' : `\n\n${body}`}`;
  }
  const commit = repo.createCommit({
    parents: method === 'squash' ? [baseSha] : [baseSha, pr.headSha],
    tree,
    message: fullMessage,
    author: { ...head.author, date: now },
    committer,
  });
  repo.refs.set(pr.baseRef, commit.sha);
  Object.assign(pr, {
    state: 'closed',
    merged: true,
    mergedAt: now,
    closedAt: now,
    updatedAt: now,
    mergeCommitSha: commit.sha,
    autoMerge: null,
  });
  return { sha: commit.sha };
}

function mergePull(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const pr = pullOf(ctx, repo);
  const { sha } = performMerge(repo, pr, {
    method: stringField(ctx.body, 'merge_method') ?? 'merge',
    title: stringField(ctx.body, 'commit_title'),
    message: stringField(ctx.body, 'commit_message'),
    sha: stringField(ctx.body, 'sha'),
    now: ctx.now(),
  });
  return {
    status: 200,
    body: { sha, merged: true, message: 'Pull Request successfully merged' },
  };
}

function addLabels(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const pr = pullOf(ctx, repo);
  const raw = Array.isArray(ctx.body) ? ctx.body : field(ctx.body, 'labels');
  if (!Array.isArray(raw) || raw.some((l) => typeof l !== 'string'))
    throw new HttpError(422, 'Invalid request.\n\n"labels" must be an array of strings.');
  for (const l of raw as string[]) if (!pr.labels.includes(l)) pr.labels.push(l);
  return { status: 200, body: pr.labels.map((l) => labelJson(repo, l, ctx.baseUrl)) };
}

function requestReviewers(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const pr = pullOf(ctx, repo);
  const raw = field(ctx.body, 'reviewers') ?? [];
  if (!Array.isArray(raw) || raw.some((l) => typeof l !== 'string'))
    throw new HttpError(422, 'Invalid request.\n\n"reviewers" must be an array of strings.');
  const reviewers = raw as string[];
  if (reviewers.includes(pr.user))
    throw new HttpError(422, 'Review cannot be requested from pull request author.');
  if (repo.collaborators !== null && reviewers.some((r) => !repo.collaborators?.has(r))) {
    throw new HttpError(
      422,
      `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${repo.fullName} repository.`,
    );
  }
  for (const r of reviewers) if (!pr.requestedReviewers.includes(r)) pr.requestedReviewers.push(r);
  return { status: 201, body: pullJson(repo, pr, ctx.baseUrl, false) };
}

function createComment(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const pr = pullOf(ctx, repo);
  const body = stringField(ctx.body, 'body');
  if (body === undefined) throw new HttpError(422, 'Invalid request.\n\n"body" wasn\'t supplied.');
  const now = ctx.now().toISOString();
  const comment = { id: repo.nextId(), body, user: ctx.login, createdAt: now };
  pr.comments.push(comment);
  const api = `${ctx.baseUrl}/repos/${repo.fullName}`;
  return {
    status: 201,
    body: {
      id: comment.id,
      node_id: `IC_${comment.id}`,
      url: `${api}/issues/comments/${comment.id}`,
      html_url: `${ctx.baseUrl}/${repo.fullName}/pull/${pr.number}#issuecomment-${comment.id}`,
      issue_url: `${api}/issues/${pr.number}`,
      body,
      user: { login: ctx.login },
      created_at: now,
      updated_at: now,
      author_association: 'MEMBER',
    },
  };
}

function listFiles(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const pr = pullOf(ctx, repo);
  const files = pullChanges(repo, pr).map(({ path, before, after }) => {
    const { patch, additions, deletions } = unifiedPatch(before ?? '', after ?? '');
    return {
      sha: after === undefined ? null : blobSha(after),
      filename: path,
      status: before === undefined ? 'added' : after === undefined ? 'removed' : 'modified',
      additions,
      deletions,
      changes: additions + deletions,
      patch,
    };
  });
  const { page, headers } = paginate(files, ctx, `/repos/${repo.fullName}/pulls/${pr.number}/files`);
  return { status: 200, body: page, headers };
}

export const pullRoutes: Route[] = [
  { method: 'GET', pattern: new RegExp(`^${REPO}/pulls$`), handle: listPulls },
  { method: 'POST', pattern: new RegExp(`^${REPO}/pulls$`), handle: createPull },
  { method: 'GET', pattern: new RegExp(`^${REPO}/pulls/(\\d+)$`), handle: getPull },
  { method: 'PATCH', pattern: new RegExp(`^${REPO}/pulls/(\\d+)$`), handle: updatePull },
  { method: 'PUT', pattern: new RegExp(`^${REPO}/pulls/(\\d+)/merge$`), handle: mergePull },
  { method: 'GET', pattern: new RegExp(`^${REPO}/pulls/(\\d+)/files$`), handle: listFiles },
  {
    method: 'POST',
    pattern: new RegExp(`^${REPO}/pulls/(\\d+)/requested_reviewers$`),
    handle: requestReviewers,
  },
  { method: 'POST', pattern: new RegExp(`^${REPO}/issues/(\\d+)/labels$`), handle: addLabels },
  { method: 'POST', pattern: new RegExp(`^${REPO}/issues/(\\d+)/comments$`), handle: createComment },
];

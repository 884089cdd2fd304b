/** Contents, commits and refs endpoints (the Git Data API's trees and commits are in routes-git-data.ts). */
import { blobSha, gitTime, type RepoModel } from './git-model.ts';
import {
  HttpError,
  field,
  paginate,
  signatureField,
  stringField,
  type RequestContext,
  type Route,
} from './http.ts';
import { commitJson, contentJson, gitCommitJson, refJson } from './render.ts';

const REPO = '/repos/([^/]+)/([^/]+)';

function repoOf(ctx: RequestContext): RepoModel {
  return ctx.repo(ctx.params[0] ?? '', ctx.params[1] ?? '');
}

function getContents(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const path = ctx.params[2] ?? '';
  const ref = ctx.query.get('ref') ?? repo.defaultBranch;
  const sha = repo.resolve(ref);
  if (sha === undefined) throw new HttpError(404, `No commit found for the ref ${ref}`);
  const content = repo.commit(sha).tree.get(path);
  if (content === undefined) throw new HttpError(404, 'Not Found');
  if (/application\/vnd\.github(\.v3)?\.raw/.test(ctx.accept)) return { status: 200, raw: content };
  return { status: 200, body: contentJson(repo, path, content, ref, ctx.baseUrl) };
}

function putContents(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const path = ctx.params[2] ?? '';
  const message = stringField(ctx.body, 'message');
  const b64 = stringField(ctx.body, 'content');
  if (message === undefined) throw new HttpError(422, 'Invalid request.\n\n"message" wasn\'t supplied.');
  if (b64 === undefined) throw new HttpError(422, 'Invalid request.\n\n"content" wasn\'t supplied.');
  const branch = stringField(ctx.body, 'branch') ?? repo.defaultBranch;
  const head = repo.refs.get(branch);
  if (head === undefined) throw new HttpError(404, `Branch ${branch} not found`);
  const existing = repo.commit(head).tree.get(path);
  const sha = stringField(ctx.body, 'sha');
  if (existing !== undefined && sha === undefined)
    throw new HttpError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.');
  if (sha !== undefined && (existing === undefined || blobSha(existing) !== sha))
    throw new HttpError(409, `${path} does not match ${sha}`);
  const now = ctx.now();
  const fallback = { name: ctx.login, email: `${ctx.login}@users.noreply.github.com`, date: gitTime(now) };
  const committer = signatureField(ctx.body, 'committer', now) ?? fallback;
  const author = signatureField(ctx.body, 'author', now) ?? committer;
  const content = Buffer.from(b64, 'base64').toString('utf8');
  const commit = repo.commitChanges(branch, { [path]: content }, message, author, committer);
  return {
    status: existing === undefined ? 201 : 200,
    body: {
      content: contentJson(repo, path, content, branch, ctx.baseUrl, false),
      commit: gitCommitJson(repo, commit, ctx.baseUrl),
    },
  };
}

function listCommits(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const ref = ctx.query.get('sha') ?? repo.defaultBranch;
  const sha = repo.resolve(ref);
  if (sha === undefined) throw new HttpError(404, `No commit found for SHA: ${ref}`);
  const path = ctx.query.get('path');
  const commits = [...(path === null || path === '' ? repo.log(sha) : repo.pathHistory(sha, path))];
  const { page, headers } = paginate(commits, ctx, `/repos/${repo.fullName}/commits`);
  return { status: 200, body: page.map((c) => commitJson(repo, c, ctx.baseUrl)), headers };
}

function getRef(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const branch = ctx.params[2] ?? '';
  const sha = repo.refs.get(branch);
  if (sha === undefined) throw new HttpError(404, 'Not Found');
  return { status: 200, body: refJson(repo, branch, sha, ctx.baseUrl) };
}

function createRef(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const ref = stringField(ctx.body, 'ref');
  const sha = stringField(ctx.body, 'sha');
  if (ref === undefined || sha === undefined)
    throw new HttpError(422, 'Invalid request.\n\n"ref" and "sha" are required.');
  // Only branches are modelled; a tag or a malformed name is something rewind never creates.
  if (!/^refs\/heads\/[^\s~^:?*[\\]+$/.test(ref)) throw new HttpError(422, `${ref} is not a valid ref name.`);
  const branch = ref.slice('refs/heads/'.length);
  if (repo.refs.has(branch)) throw new HttpError(422, 'Reference already exists');
  if (!repo.commits.has(sha)) throw new HttpError(422, 'Object does not exist');
  repo.refs.set(branch, sha);
  return { status: 201, body: refJson(repo, branch, sha, ctx.baseUrl) };
}

function updateRef(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const branch = ctx.params[2] ?? '';
  const sha = stringField(ctx.body, 'sha');
  const current = repo.refs.get(branch);
  if (current === undefined) throw new HttpError(422, 'Reference does not exist');
  if (sha === undefined || !repo.commits.has(sha)) throw new HttpError(422, 'Object does not exist');
  if (field(ctx.body, 'force') !== true && !repo.ancestors(sha).has(current))
    throw new HttpError(422, 'Update is not a fast forward');
  // A head moved onto its base closes its open pull request, as on GitHub.
  repo.moveBranch(branch, sha, ctx.now().toISOString());
  return { status: 200, body: refJson(repo, branch, sha, ctx.baseUrl) };
}

function deleteRef(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const branch = ctx.params[2] ?? '';
  if (!repo.refs.delete(branch)) throw new HttpError(422, 'Reference does not exist');
  return { status: 204 };
}

export const gitRoutes: Route[] = [
  { method: 'GET', pattern: new RegExp(`^${REPO}/contents/(.+)$`), handle: getContents },
  { method: 'PUT', pattern: new RegExp(`^${REPO}/contents/(.+)$`), handle: putContents },
  { method: 'GET', pattern: new RegExp(`^${REPO}/commits$`), handle: listCommits },
  { method: 'GET', pattern: new RegExp(`^${REPO}/git/ref/heads/(.+)$`), handle: getRef },
  { method: 'POST', pattern: new RegExp(`^${REPO}/git/refs$`), handle: createRef },
  { method: 'PATCH', pattern: new RegExp(`^${REPO}/git/refs/heads/(.+)$`), handle: updateRef },
  { method: 'DELETE', pattern: new RegExp(`^${REPO}/git/refs/heads/(.+)$`), handle: deleteRef },
];

/**
 * The Git Data API's commits and trees: GET git/commits/{sha}, POST git/trees,
 * POST git/commits. Trees are flat maps in the model; the executable bit and
 * symlinks are not modelled (100755 and 120000 entries are kept as plain files),
 * submodules (160000 / type commit) are refused.
 */
import { blobSha, gitTime, subtree, type RepoModel } from './git-model.ts';
import { HttpError, field, signatureField, stringField, type RequestContext, type Route } from './http.ts';
import { gitCommitJson } from './render.ts';

const REPO = '/repos/([^/]+)/([^/]+)';
const BLOB_MODES = new Set(['100644', '100755', '120000']);

function repoOf(ctx: RequestContext): RepoModel {
  return ctx.repo(ctx.params[0] ?? '', ctx.params[1] ?? '');
}

const invalid = (what: string): HttpError => new HttpError(422, `Invalid request.\n\n${what}`);

function getCommit(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const c = repo.commits.get(ctx.params[2] ?? '');
  if (c === undefined) throw new HttpError(404, 'Not Found');
  return { status: 200, body: gitCommitJson(repo, c, ctx.baseUrl) };
}

/** Removes `path` and everything under it. */
function remove(tree: Map<string, string>, path: string): void {
  tree.delete(path);
  for (const p of [...tree.keys()]) if (p.startsWith(`${path}/`)) tree.delete(p);
}

/** A file or directory at `path` replaces whatever was there, including a file where one of its directories goes. */
function clear(tree: Map<string, string>, path: string): void {
  remove(tree, path);
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) tree.delete(parts.slice(0, i).join('/'));
}

function createTree(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const entries = field(ctx.body, 'tree');
  if (!Array.isArray(entries)) throw invalid('"tree" wasn\'t supplied.');
  const baseTree = field(ctx.body, 'base_tree');
  if (baseTree !== undefined && typeof baseTree !== 'string') throw invalid('"base_tree" must be a string.');
  const base = baseTree === undefined ? new Map<string, string>() : repo.trees.get(baseTree);
  if (base === undefined) throw new HttpError(422, 'base_tree is not a valid tree oid');
  const tree = new Map(base);
  for (const entry of entries as unknown[]) {
    const path = stringField(entry, 'path');
    const mode = stringField(entry, 'mode');
    const type = stringField(entry, 'type');
    const sha = field(entry, 'sha');
    const content = field(entry, 'content');
    if (
      path === undefined ||
      path === '' ||
      path.startsWith('/') ||
      path.endsWith('/') ||
      path.split('/').some((s) => s === '' || s === '.' || s === '..')
    ) {
      throw invalid(`"${String(path)}" is not a valid tree.path.`);
    }
    if (type !== 'blob' && type !== 'tree' && type !== 'commit')
      throw invalid(`"${String(type)}" is not a valid tree.type.`);
    if (type === 'commit' || mode === '160000')
      throw new HttpError(422, 'emulator: submodules are not modelled');
    if (mode === undefined || (type === 'blob' ? !BLOB_MODES.has(mode) : mode !== '040000'))
      throw invalid(`"${String(mode)}" is not a valid tree.mode for a ${type}.`);
    if (sha !== undefined && content !== undefined)
      throw invalid('Only one of "sha" or "content" may be supplied.');
    if (sha === null) {
      remove(tree, path);
    } else if (typeof sha === 'string') {
      if (type === 'blob') {
        const blob = repo.blobs.get(sha);
        if (blob === undefined) throw new HttpError(422, `tree.sha ${sha} is not a valid blob`);
        clear(tree, path);
        tree.set(path, blob);
      } else {
        const sub = repo.trees.get(sha);
        if (sub === undefined) throw new HttpError(422, `tree.sha ${sha} is not a valid tree`);
        clear(tree, path);
        for (const [p, c] of sub) tree.set(`${path}/${p}`, c);
      }
    } else if (typeof content === 'string') {
      if (type !== 'blob') throw invalid('"content" can only be supplied for a blob.');
      clear(tree, path);
      tree.set(path, content);
    } else {
      throw invalid('Either "sha" or "content" must be supplied.');
    }
  }
  const sha = repo.storeTree(tree);
  const api = `${ctx.baseUrl}/repos/${repo.fullName}`;
  // GitHub answers with the top level of the new tree: files as blobs, directories as subtrees.
  const top = new Map<string, Record<string, unknown>>();
  for (const [path, content] of [...tree].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const name = path.split('/')[0] ?? path;
    if (top.has(name)) continue;
    if (name === path) {
      const b = blobSha(content);
      top.set(name, {
        path: name,
        mode: '100644',
        type: 'blob',
        sha: b,
        size: Buffer.byteLength(content),
        url: `${api}/git/blobs/${b}`,
      });
    } else {
      const t = repo.storeTree(subtree(tree, name));
      top.set(name, { path: name, mode: '040000', type: 'tree', sha: t, url: `${api}/git/trees/${t}` });
    }
  }
  return {
    status: 201,
    body: { sha, url: `${api}/git/trees/${sha}`, tree: [...top.values()], truncated: false },
  };
}

function createCommit(ctx: RequestContext) {
  const repo = repoOf(ctx);
  const message = stringField(ctx.body, 'message');
  const treeSha = stringField(ctx.body, 'tree');
  if (message === undefined) throw invalid('"message" wasn\'t supplied.');
  if (treeSha === undefined) throw invalid('"tree" wasn\'t supplied.');
  const parents = field(ctx.body, 'parents') ?? [];
  if (!Array.isArray(parents) || parents.some((p) => typeof p !== 'string'))
    throw invalid('"parents" must be an array of strings.');
  const tree = repo.trees.get(treeSha);
  if (tree === undefined) throw new HttpError(422, 'Tree SHA does not exist');
  if ((parents as string[]).some((p) => !repo.commits.has(p)))
    throw new HttpError(422, 'Parent SHA does not exist or is not a commit object');
  const now = ctx.now();
  const fallback = { name: ctx.login, email: `${ctx.login}@users.noreply.github.com`, date: gitTime(now) };
  const author = signatureField(ctx.body, 'author', now) ?? fallback;
  const committer = signatureField(ctx.body, 'committer', now) ?? author;
  const commit = repo.createCommit({ parents: parents as string[], tree, message, author, committer });
  return { status: 201, body: gitCommitJson(repo, commit, ctx.baseUrl) };
}

export const gitDataRoutes: Route[] = [
  { method: 'GET', pattern: new RegExp(`^${REPO}/git/commits/([^/]+)$`), handle: getCommit },
  { method: 'POST', pattern: new RegExp(`^${REPO}/git/commits$`), handle: createCommit },
  { method: 'POST', pattern: new RegExp(`^${REPO}/git/trees$`), handle: createTree },
];

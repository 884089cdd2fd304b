/** GitHub's JSON shapes for the objects the emulator serves (fields rewind and octokit read, plus the usual neighbours). */
import { blobSha, type Commit, type PullState, type RepoModel } from './git-model.ts';

function user(login: string, baseUrl: string): Record<string, unknown> {
  return {
    login,
    id: login.length,
    node_id: `U_${login}`,
    type: login.endsWith('[bot]') ? 'Bot' : 'User',
    url: `${baseUrl}/users/${login}`,
  };
}

export function repoJson(repo: RepoModel, baseUrl: string): Record<string, unknown> {
  return {
    id: repo.fullName.length,
    name: repo.name,
    full_name: repo.fullName,
    owner: user(repo.owner, baseUrl),
    private: true,
    html_url: `${baseUrl}/${repo.fullName}`,
    url: `${baseUrl}/repos/${repo.fullName}`,
    default_branch: repo.defaultBranch,
  };
}

export function gitCommitJson(repo: RepoModel, c: Commit, baseUrl: string): Record<string, unknown> {
  const api = `${baseUrl}/repos/${repo.fullName}`;
  return {
    sha: c.sha,
    node_id: `C_${c.sha}`,
    url: `${api}/git/commits/${c.sha}`,
    html_url: `${baseUrl}/${repo.fullName}/commit/${c.sha}`,
    author: c.author,
    committer: c.committer,
    message: c.message,
    tree: { sha: c.treeSha, url: `${api}/git/trees/${c.treeSha}` },
    parents: c.parents.map((p) => ({
      sha: p,
      url: `${api}/git/commits/${p}`,
      html_url: `${baseUrl}/${repo.fullName}/commit/${p}`,
    })),
    verification: { verified: false, reason: 'unsigned', signature: null, payload: null },
  };
}

/** The item shape of GET /repos/{o}/{r}/commits. */
export function commitJson(repo: RepoModel, c: Commit, baseUrl: string): Record<string, unknown> {
  const api = `${baseUrl}/repos/${repo.fullName}`;
  return {
    sha: c.sha,
    node_id: `C_${c.sha}`,
    url: `${api}/commits/${c.sha}`,
    html_url: `${baseUrl}/${repo.fullName}/commit/${c.sha}`,
    commit: {
      author: c.author,
      committer: c.committer,
      message: c.message,
      tree: { sha: c.treeSha, url: `${api}/git/trees/${c.treeSha}` },
      url: `${api}/git/commits/${c.sha}`,
      comment_count: 0,
    },
    author: null,
    committer: null,
    parents: c.parents.map((p) => ({
      sha: p,
      url: `${api}/commits/${p}`,
      html_url: `${baseUrl}/${repo.fullName}/commit/${p}`,
    })),
  };
}

/** GitHub wraps base64 content at 60 characters. */
function base64Wrapped(content: string): string {
  const b64 = Buffer.from(content, 'utf8').toString('base64');
  return (b64.match(/.{1,60}/g) ?? []).map((l) => `${l}\n`).join('');
}

export function contentJson(
  repo: RepoModel,
  path: string,
  content: string,
  ref: string,
  baseUrl: string,
  withContent = true,
): Record<string, unknown> {
  const sha = blobSha(content);
  const api = `${baseUrl}/repos/${repo.fullName}`;
  const json: Record<string, unknown> = {
    type: 'file',
    name: path.split('/').pop() ?? path,
    path,
    sha,
    size: Buffer.byteLength(content),
    url: `${api}/contents/${path}?ref=${ref}`,
    html_url: `${baseUrl}/${repo.fullName}/blob/${ref}/${path}`,
    git_url: `${api}/git/blobs/${sha}`,
    download_url: `${baseUrl}/raw/${repo.fullName}/${ref}/${path}`,
    _links: {
      self: `${api}/contents/${path}?ref=${ref}`,
      git: `${api}/git/blobs/${sha}`,
      html: `${baseUrl}/${repo.fullName}/blob/${ref}/${path}`,
    },
  };
  if (withContent) Object.assign(json, { encoding: 'base64', content: base64Wrapped(content) });
  return json;
}

export function refJson(
  repo: RepoModel,
  branch: string,
  sha: string,
  baseUrl: string,
): Record<string, unknown> {
  const api = `${baseUrl}/repos/${repo.fullName}`;
  return {
    ref: `refs/heads/${branch}`,
    node_id: `REF_${branch}`,
    url: `${api}/git/refs/heads/${branch}`,
    object: { sha, type: 'commit', url: `${api}/git/commits/${sha}` },
  };
}

export function labelJson(repo: RepoModel, name: string, baseUrl: string): Record<string, unknown> {
  return {
    id: name.length,
    node_id: `L_${name}`,
    url: `${baseUrl}/repos/${repo.fullName}/labels/${encodeURIComponent(name)}`,
    name,
    color: 'ededed',
    default: false,
    description: null,
  };
}

function branchJson(repo: RepoModel, ref: string, sha: string, baseUrl: string): Record<string, unknown> {
  return {
    label: `${repo.owner}:${ref}`,
    ref,
    sha,
    user: user(repo.owner, baseUrl),
    repo: repoJson(repo, baseUrl),
  };
}

/** A pull request; `full` adds the fields only GET /pulls/{n} returns. */
export function pullJson(
  repo: RepoModel,
  pr: PullState,
  baseUrl: string,
  full: boolean,
): Record<string, unknown> {
  const api = `${baseUrl}/repos/${repo.fullName}`;
  const html = `${baseUrl}/${repo.fullName}/pull/${pr.number}`;
  const json: Record<string, unknown> = {
    url: `${api}/pulls/${pr.number}`,
    id: pr.id,
    node_id: `PR_${pr.id}`,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${api}/issues/${pr.number}`,
    number: pr.number,
    state: pr.state,
    locked: false,
    title: pr.title,
    user: user(pr.user, baseUrl),
    body: pr.body,
    labels: pr.labels.map((l) => labelJson(repo, l, baseUrl)),
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.closedAt,
    merged_at: pr.mergedAt,
    merge_commit_sha: pr.mergeCommitSha,
    assignees: [],
    requested_reviewers: pr.requestedReviewers.map((r) => user(r, baseUrl)),
    requested_teams: [],
    draft: false,
    head: branchJson(repo, pr.headRef, pr.headSha, baseUrl),
    base: branchJson(repo, pr.baseRef, repo.refs.get(pr.baseRef) ?? '', baseUrl),
    author_association: 'MEMBER',
  };
  if (full) {
    Object.assign(json, {
      merged: pr.merged,
      mergeable: pr.state === 'open' ? true : null,
      mergeable_state: pr.state === 'open' ? 'clean' : 'unknown',
      merged_by: pr.merged ? user(pr.user, baseUrl) : null,
      comments: pr.comments.length,
    });
  }
  return json;
}

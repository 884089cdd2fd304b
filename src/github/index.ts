/** The GitHub adapter: the only place rewind imports @octokit/*. */
export {
  createOctokit,
  type CreateOctokitOptions,
  type GitHubAuthOptions,
  type GitHubClient,
  type GitHubMetrics,
} from './octokit.ts';
export { createGitHubRepository, REWIND_LABEL, type GitHubRepositoryOptions } from './repository.ts';
export { firstParentsQuery, type HistoryPaging } from './history.ts';

/**
 * The GitHub API emulator on its own, for the docker-compose trial (no GitHub
 * account): seeds acme/gitops with the checkout overlay v1.0.0 → v1.1.0 → v1.2.0
 * (the last release 30 minutes ago) and serves until stopped.
 *
 *   EMULATOR_HOST (127.0.0.1), EMULATOR_PORT (9000), EMULATOR_TOKEN (the token
 *   clients must send; default "emulator-token"), EMULATOR_PUBLIC_URL (base URL
 *   for links in pull requests, default http://localhost:<port>)
 */
import { startGitHubEmulator } from '../test/support/github-emulator.ts';
import { SAMPLE_PATH, seedSampleRepo } from '../test/support/gitops-sample.ts';

const env = process.env;
const port = Number(env.EMULATOR_PORT ?? 9000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`EMULATOR_PORT: "${env.EMULATOR_PORT}" is not a port number\n`);
  process.exit(78);
}
const token = env.EMULATOR_TOKEN || 'emulator-token';
const gh = await startGitHubEmulator({
  token,
  listen: {
    host: env.EMULATOR_HOST || '127.0.0.1',
    port,
    // port 0 (tests): the links name the port actually bound
    ...(env.EMULATOR_PUBLIC_URL || port !== 0
      ? { publicUrl: env.EMULATOR_PUBLIC_URL || `http://localhost:${port}` }
      : {}),
  },
});
seedSampleRepo(gh, new Date(Date.now() - 30 * 60_000));
process.stdout.write(
  `GitHub API emulator listening, links as ${gh.url}: acme/gitops seeded (${SAMPLE_PATH} at v1.2.0)\n` +
    `  pull requests: curl -H "Authorization: Bearer <EMULATOR_TOKEN>" ${gh.url}/repos/acme/gitops/pulls?state=all\n`,
);

// Print each pull request as it opens, merges or closes, so `docker compose logs github` tells the story.
const seen = new Map<number, string>();
const timer = setInterval(() => {
  for (const pr of gh.pulls('acme', 'gitops')) {
    const state = pr.merged ? `merged as ${pr.mergeCommitSha?.slice(0, 7)}` : pr.state;
    if (seen.get(pr.number) === state) continue;
    seen.set(pr.number, state);
    process.stdout.write(
      `pull request #${pr.number} ${state}: ${pr.title} (${pr.headRef} → ${pr.baseRef})\n`,
    );
  }
}, 1000);

const stop = () => {
  clearInterval(timer);
  void gh.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

/**
 * Redis bookkeeping for verification: which remediation waits for a Flux
 * Kustomization at a commit, and a one-time claim so the verify job and a Flux
 * event arriving together record one verdict.
 */
import type { Redis } from 'ioredis';

export type VerdictIndex = ReturnType<typeof createVerdictIndex>;

export function createVerdictIndex(opts: { redis: Redis; prefix: string; ttlSeconds?: number }) {
  const { redis, prefix } = opts;
  const ttl = opts.ttlSeconds ?? 7 * 24 * 3600;
  const fluxKey = (kustomization: string, sha: string) =>
    `${prefix}:flux:${kustomization}:${sha.toLowerCase()}`;
  return {
    async expectFlux(kustomization: string, sha: string, remediationId: string): Promise<void> {
      await redis.set(fluxKey(kustomization, sha), remediationId, 'EX', ttl);
    },
    async awaitingFlux(kustomization: string, sha: string): Promise<string | null> {
      return redis.get(fluxKey(kustomization, sha));
    },
    /** true for the first caller only */
    async claim(remediationId: string): Promise<boolean> {
      return (await redis.set(`${prefix}:verdict:${remediationId}`, '1', 'EX', ttl, 'NX')) === 'OK';
    },
  };
}

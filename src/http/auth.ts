import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (s: string) => createHash('sha256').update(s).digest();

/**
 * Constant-time bearer check. Both sides are hashed first so the comparison
 * takes the same time whatever the length of what the client sent; the
 * token's own hash is computed once, not on every request.
 */
export function bearerChecker(token: string): (header: string | undefined) => boolean {
  const want = sha256(token);
  return (header) => {
    const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
    return timingSafeEqual(sha256(m?.[1]?.trim() ?? ''), want) && m !== null;
  };
}

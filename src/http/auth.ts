import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Constant-time bearer check. Both sides are hashed first so the comparison
 * takes the same time whatever the length of what the client sent.
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  const given = createHash('sha256')
    .update(m?.[1]?.trim() ?? '')
    .digest();
  const want = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, want) && m !== null;
}

import { createHash, timingSafeEqual } from 'node:crypto';

/** A source of cryptographic randomness, passed in so that tests can control it. */
export type RandomBytes = (size: number) => Buffer;

export function generateToken(randomBytes: RandomBytes, sizeInBytes: number): string {
  return randomBytes(sizeInBytes).toString('base64url');
}

/**
 * Tokens are stored only as their SHA-256: a stolen database row cannot be replayed as a cookie.
 * A 256-bit random token needs no salt or slow hash.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}

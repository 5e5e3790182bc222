import { createHmac } from 'node:crypto';
import type pg from 'pg';
import { PASSWORD, RANDOM_STRING_ALPHABET, randomString, rowId } from './accounts.ts';
import { expectStatus, requireCookie, type PeerClient } from './client.ts';

/**
 * Sign-ins waiting for their TOTP code, made in bulk. A password sign-in of a user with 2FA
 * (better-auth/dist/plugins/two-factor/index.mjs, the after-hook on sign-in paths) deletes the new
 * session and instead:
 *   - stores a verification row { identifier: "2fa-<20 random chars>", value: <user id> },
 *   - stores a second one { identifier: "2fa-attempts-<that identifier>", value: "0" }, the
 *     count of wrong codes for this challenge,
 *   - both expire after twoFactorCookieMaxAge (600 s by default),
 *   - sets the cookie better-auth.two_factor to the identifier, signed the better-call way:
 *     encodeURIComponent(`${identifier}.${base64(HMAC-SHA256(secret, identifier))}`).
 * The same rows and cookie are written here, so the load skips the scrypt hash of each sign-in
 * but verify-totp does exactly the work it does after a real one. checkPendingSignInShape compares
 * them with what a real sign-in leaves behind.
 */

export const TWO_FACTOR_COOKIE = 'better-auth.two_factor';
const PENDING_LIFETIME_IN_SECONDS = 600;
const IDENTIFIER_PATTERN = /^2fa-[A-Za-z0-9_-]{20}$/;

export function signCookieValue(value: string, secret: string): string {
  const signature = createHmac('sha256', secret).update(value).digest('base64');
  return encodeURIComponent(`${value}.${signature}`);
}

/** One pending sign-in per entry of `userIds`; returns their two_factor cookie values in order. */
export async function insertPendingSignIns(
  db: pg.Client,
  secret: string,
  userIds: string[],
): Promise<string[]> {
  const identifiers = userIds.map(() => `2fa-${randomString(20, RANDOM_STRING_ALPHABET)}`);
  const expiresAt = new Date(Date.now() + PENDING_LIFETIME_IN_SECONDS * 1000);
  await db.query(
    `INSERT INTO verification (id, identifier, value, "expiresAt", "createdAt", "updatedAt")
     SELECT id, identifier, value, $4, now(), now()
     FROM unnest($1::text[], $2::text[], $3::text[]) AS rows(id, identifier, value)`,
    [
      [...identifiers.map(rowId), ...identifiers.map(rowId)],
      [...identifiers, ...identifiers.map((identifier) => `2fa-attempts-${identifier}`)],
      [...userIds, ...identifiers.map(() => '0')],
      expiresAt,
    ],
  );
  return identifiers.map((identifier) => signCookieValue(identifier, secret));
}

/**
 * Signs `email` in through the API and checks that the rows and cookie it gets are the ones
 * insertPendingSignIns writes. Throws on the first difference.
 */
export async function checkPendingSignInShape(
  db: pg.Client,
  client: PeerClient,
  secret: string,
  user: { email: string; userId: string },
): Promise<void> {
  const answer = await client.call('POST', '/api/auth/sign-in/email', {
    email: user.email,
    password: PASSWORD,
  });
  expectStatus(answer, 200, 'sign-in of the 2FA user');
  if ((answer.body as { twoFactorRedirect?: boolean }).twoFactorRedirect !== true) {
    throw new Error(`sign-in of the 2FA user did not ask for 2FA: ${JSON.stringify(answer.body)}`);
  }
  const cookie = requireCookie(answer, TWO_FACTOR_COOKIE, 'sign-in of the 2FA user');
  const signed = decodeURIComponent(cookie);
  const identifier = signed.slice(0, signed.lastIndexOf('.'));
  const differences: string[] = [];
  if (!IDENTIFIER_PATTERN.test(identifier)) differences.push(`identifier ${identifier}`);
  if (signCookieValue(identifier, secret) !== cookie) differences.push('cookie signature');

  const { rows } = await db.query<{ identifier: string; value: string; lifetime: number }>(
    `SELECT identifier, value, extract(epoch FROM "expiresAt" - "createdAt")::float8 AS lifetime
     FROM verification WHERE identifier = $1 OR identifier = $2 ORDER BY identifier = $2`,
    [identifier, `2fa-attempts-${identifier}`],
  );
  const expected = [
    { identifier, value: user.userId },
    { identifier: `2fa-attempts-${identifier}`, value: '0' },
  ];
  if (rows.length !== expected.length) differences.push(`${rows.length} verification rows`);
  for (const [index, want] of expected.entries()) {
    const row = rows[index];
    if (row?.identifier !== want.identifier || row.value !== want.value) {
      differences.push(`row ${JSON.stringify(row)} instead of ${JSON.stringify(want)}`);
    } else if (Math.abs(row.lifetime - PENDING_LIFETIME_IN_SECONDS) > 5) {
      differences.push(`row ${row.identifier} lives ${row.lifetime} s`);
    }
  }
  if (differences.length > 0) {
    throw new Error(
      `Better Auth's pending 2FA sign-in differs from the generated ones: ${differences.join('; ')}`,
    );
  }
}

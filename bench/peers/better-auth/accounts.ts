import { randomInt } from 'node:crypto';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateTOTP } from '@oslojs/otp';
import type pg from 'pg';
import { expectStatus, requireCookie, type PeerClient } from './client.ts';

/**
 * Users for the load. Better Auth hashes passwords with scrypt (about 15 sign-ins a second on 2 cores), so
 * only two users go through its API: one with a password, one with a password and TOTP. Every other
 * user is a copy of one of them made in SQL: same password hash, same encrypted TOTP secret (a
 * secret is encrypted with the server's secret only, not bound to a user id, so each copy reads it
 * back and accepts the same codes).
 */

export const PASSWORD = 'correct horse battery staple';
export const SESSION_COOKIE = 'better-auth.session_token';
export const TOTP_PERIOD_IN_SECONDS = 30;
const TOTP_DIGITS = 6;

const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** The alphabet of Better Auth's `generateRandomString` (its row ids leave out `-` and `_`). */
export const RANDOM_STRING_ALPHABET = `${ALPHANUMERIC}-_`;

export function randomString(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** A row id as Better Auth makes them: 32 alphanumeric characters. */
export function rowId(): string {
  return randomString(32, ALPHANUMERIC);
}

export function totpCode(key: Uint8Array): string {
  return generateTOTP(key, TOTP_PERIOD_IN_SECONDS, TOTP_DIGITS);
}

export type SignedUpUser = { userId: string; email: string; sessionCookie: string };

export async function signUp(client: PeerClient, email: string): Promise<SignedUpUser> {
  const answer = await client.call('POST', '/api/auth/sign-up/email', {
    email,
    password: PASSWORD,
    name: email.split('@')[0],
  });
  expectStatus(answer, 200, `sign-up of ${email}`);
  const { user } = answer.body as { user: { id: string } };
  return {
    userId: user.id,
    email,
    sessionCookie: requireCookie(answer, SESSION_COOKIE, `sign-up of ${email}`),
  };
}

/** Enables TOTP as a user would: enable (password), then prove the app with a first code. */
export async function enableTotp(client: PeerClient, user: SignedUpUser): Promise<Uint8Array> {
  const session = { [SESSION_COOKIE]: user.sessionCookie };
  const enabled = await client.call(
    'POST',
    '/api/auth/two-factor/enable',
    { password: PASSWORD },
    session,
  );
  expectStatus(enabled, 200, 'two-factor/enable');
  const { totpURI } = enabled.body as { totpURI: string };
  const secret = new URL(totpURI).searchParams.get('secret');
  if (!secret) throw new Error(`no secret in the TOTP URI`);
  const key = decodeBase32IgnorePadding(secret);
  const verified = await client.call(
    'POST',
    '/api/auth/two-factor/verify-totp',
    { code: totpCode(key) },
    session,
  );
  expectStatus(verified, 200, 'first two-factor/verify-totp');
  return key;
}

/** Copies of `sourceUserId` (user, credential account and, if any, TOTP rows) under new ids. */
export async function cloneUser(
  db: pg.Client,
  sourceUserId: string,
  count: number,
  emailOf: (index: number) => string,
): Promise<{ ids: string[]; emails: string[] }> {
  const ids = Array.from({ length: count }, rowId);
  const emails = ids.map((_, index) => emailOf(index));
  const accountIds = ids.map(rowId);
  const twoFactorIds = ids.map(rowId);
  await db.query('BEGIN');
  try {
    await db.query(
      `INSERT INTO "user" (id, name, email, "emailVerified", image, "createdAt", "updatedAt", "twoFactorEnabled")
       SELECT c.id, split_part(c.email, '@', 1), c.email, u."emailVerified", u.image, now(), now(), u."twoFactorEnabled"
       FROM "user" u, unnest($2::text[], $3::text[]) AS c(id, email)
       WHERE u.id = $1`,
      [sourceUserId, ids, emails],
    );
    await db.query(
      `INSERT INTO account (id, "accountId", "providerId", "userId", password, "createdAt", "updatedAt")
       SELECT c.account_id, c.user_id, a."providerId", c.user_id, a.password, now(), now()
       FROM account a, unnest($2::text[], $3::text[]) AS c(user_id, account_id)
       WHERE a."userId" = $1 AND a."providerId" = 'credential'`,
      [sourceUserId, ids, accountIds],
    );
    await db.query(
      `INSERT INTO "twoFactor" (id, secret, "backupCodes", "userId", verified, "failedVerificationCount", "lockedUntil")
       SELECT c.two_factor_id, t.secret, t."backupCodes", c.user_id, t.verified, 0, NULL
       FROM "twoFactor" t, unnest($2::text[], $3::text[]) AS c(user_id, two_factor_id)
       WHERE t."userId" = $1`,
      [sourceUserId, ids, twoFactorIds],
    );
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
  return { ids, emails };
}

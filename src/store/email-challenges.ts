import type { Kysely } from 'kysely';
import type { ChallengePurpose, Database } from './schema.ts';

export type ChallengeBinding = { userId: string; orgId: string; purpose: ChallengePurpose };

export async function lastChallengeSentAt(
  db: Kysely<Database>,
  binding: ChallengeBinding,
): Promise<Date | null> {
  const row = await db
    .selectFrom('email_challenges')
    .select('created_at')
    .where('user_id', '=', binding.userId)
    .where('purpose', '=', binding.purpose)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.created_at ?? null;
}

export async function insertChallenge(
  db: Kysely<Database>,
  challenge: ChallengeBinding & {
    sessionTokenHash: string | null;
    codeHmac: string;
    payload: Record<string, unknown>;
    now: Date;
    expiresAt: Date;
  },
): Promise<string> {
  const row = await db
    .insertInto('email_challenges')
    .values({
      user_id: challenge.userId,
      org_id: challenge.orgId,
      purpose: challenge.purpose,
      session_token_hash: challenge.sessionTokenHash,
      code_hmac: challenge.codeHmac,
      payload: JSON.stringify(challenge.payload),
      created_at: challenge.now,
      expires_at: challenge.expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * A delivered code voids every other open one of the same user and purpose. Called only once the
 * new email went out, so that a failed send leaves the code the user already has working.
 */
export async function voidOtherChallenges(
  db: Kysely<Database>,
  binding: ChallengeBinding,
  keepId: string,
  now: Date,
): Promise<void> {
  await db
    .updateTable('email_challenges')
    .set({ voided_at: now })
    .where('user_id', '=', binding.userId)
    .where('purpose', '=', binding.purpose)
    .where('id', '<>', keepId)
    .where('consumed_at', 'is', null)
    .where('voided_at', 'is', null)
    .execute();
}

export type OpenChallenge = { id: string; codeHmac: string; payload: Record<string, unknown> };

/**
 * Counts one attempt at an open challenge (bound to this user, org and purpose, not expired, not
 * used, not voided, under maxAttempts) and returns it; the increment and the checks are one
 * UPDATE, so parallel guesses cannot exceed maxAttempts.
 */
export async function takeChallengeAttempt(
  db: Kysely<Database>,
  id: string,
  binding: ChallengeBinding & { sessionTokenHash?: string },
  now: Date,
  maxAttempts: number,
): Promise<OpenChallenge | undefined> {
  let query = db
    .updateTable('email_challenges')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('user_id', '=', binding.userId)
    .where('org_id', '=', binding.orgId)
    .where('purpose', '=', binding.purpose)
    .where('consumed_at', 'is', null)
    .where('voided_at', 'is', null)
    .where('expires_at', '>', now)
    .where('attempts', '<', maxAttempts);
  if (binding.sessionTokenHash !== undefined) {
    query = query.where('session_token_hash', '=', binding.sessionTokenHash);
  }
  const row = await query.returning(['id', 'code_hmac', 'payload']).executeTakeFirst();
  return row && { id: row.id, codeHmac: row.code_hmac, payload: row.payload };
}

/** Single use: of two requests with the right code, only the one that sets consumed_at proceeds. */
export async function consumeChallenge(
  db: Kysely<Database>,
  id: string,
  now: Date,
): Promise<boolean> {
  const row = await db
    .updateTable('email_challenges')
    .set({ consumed_at: now })
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** The newest open challenge of this user, purpose and session: the one a typed code answers. */
export async function findOpenChallengeId(
  db: Kysely<Database>,
  binding: ChallengeBinding,
  sessionTokenHash: string,
  now: Date,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('email_challenges')
    .select('id')
    .where('user_id', '=', binding.userId)
    .where('org_id', '=', binding.orgId)
    .where('purpose', '=', binding.purpose)
    .where('session_token_hash', '=', sessionTokenHash)
    .where('consumed_at', 'is', null)
    .where('voided_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}

/** How many codes were emailed to the user since a time, whatever their purpose, and the oldest. */
export async function challengesSentSince(
  db: Kysely<Database>,
  userId: string,
  since: Date,
): Promise<{ count: number; oldest: Date | null }> {
  const row = await db
    .selectFrom('email_challenges')
    .select((eb) => [eb.fn.countAll<string>().as('n'), eb.fn.min('created_at').as('oldest')])
    .where('user_id', '=', userId)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return { count: Number(row.n), oldest: row.oldest ?? null };
}

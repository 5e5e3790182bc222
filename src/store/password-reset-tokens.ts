import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export async function lastResetRequestedAt(
  db: Kysely<Database>,
  userId: string,
): Promise<Date | null> {
  const row = await db
    .selectFrom('password_reset_tokens')
    .select('created_at')
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.created_at ?? null;
}

/** Only the newest link works: issuing one ends every earlier unused one of the user. */
export async function insertResetToken(
  db: Kysely<Database>,
  token: { tokenHash: string; userId: string; now: Date; expiresAt: Date },
): Promise<void> {
  await db
    .updateTable('password_reset_tokens')
    .set({ used_at: token.now })
    .where('user_id', '=', token.userId)
    .where('used_at', 'is', null)
    .execute();
  await db
    .insertInto('password_reset_tokens')
    .values({
      token_hash: token.tokenHash,
      user_id: token.userId,
      created_at: token.now,
      expires_at: token.expiresAt,
    })
    .execute();
}

/** Single use by one conditional UPDATE: of two requests with one link, only one gets the user. */
export async function consumeResetToken(
  db: Kysely<Database>,
  tokenHash: string,
  now: Date,
): Promise<string | undefined> {
  const row = await db
    .updateTable('password_reset_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('user_id')
    .executeTakeFirst();
  return row?.user_id;
}

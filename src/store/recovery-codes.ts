import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** One row per code: a new set deletes the old one whole. */
export async function replaceRecoveryCodes(
  db: Kysely<Database>,
  userId: string,
  codeHmacs: string[],
  now: Date,
): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  await db
    .insertInto('recovery_codes')
    .values(codeHmacs.map((code_hmac) => ({ user_id: userId, code_hmac, created_at: now })))
    .execute();
}

/**
 * Single use by one conditional UPDATE: of two requests with the same code, only the one that
 * flips used_at from null gets the row back.
 */
export async function consumeRecoveryCode(
  db: Kysely<Database>,
  userId: string,
  codeHmac: string,
  now: Date,
): Promise<boolean> {
  const row = await db
    .updateTable('recovery_codes')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_hmac', '=', codeHmac)
    .where('used_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

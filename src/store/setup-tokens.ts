import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export async function insertSetupToken(
  db: Kysely<Database>,
  tokenHash: string,
  now: Date,
): Promise<void> {
  await db.insertInto('setup_tokens').values({ token_hash: tokenHash, created_at: now }).execute();
}

/** Single use: the delete that returns the row is the one that may proceed. */
export async function consumeSetupToken(db: Kysely<Database>, tokenHash: string): Promise<boolean> {
  const row = await db
    .deleteFrom('setup_tokens')
    .where('token_hash', '=', tokenHash)
    .returning('token_hash')
    .executeTakeFirst();
  return row !== undefined;
}

export async function deleteAllSetupTokens(db: Kysely<Database>): Promise<void> {
  await db.deleteFrom('setup_tokens').execute();
}

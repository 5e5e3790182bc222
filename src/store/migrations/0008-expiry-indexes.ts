import { type Kysely } from 'kysely';

/** Lets the pruning job find expired rows by a range of one index instead of a full scan. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('sessions_last_seen_idx')
    .on('sessions')
    .column('last_seen_at')
    .execute();
  for (const table of ['email_challenges', 'password_reset_tokens', 'sso_states']) {
    await db.schema.createIndex(`${table}_expires_idx`).on(table).column('expires_at').execute();
  }
  await db.schema
    .createIndex('attempt_counters_updated_idx')
    .on('attempt_counters')
    .column('updated_at')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('sessions_last_seen_idx').execute();
  for (const table of ['email_challenges', 'password_reset_tokens', 'sso_states']) {
    await db.schema.dropIndex(`${table}_expires_idx`).execute();
  }
  await db.schema.dropIndex('attempt_counters_updated_idx').execute();
}

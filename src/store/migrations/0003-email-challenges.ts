import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('email_challenges')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('org_id', 'uuid', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('session_token_hash', 'text')
    .addColumn('purpose', 'text', (c) =>
      c.notNull().check(sql`purpose in ('login', 'step_up', 'enroll_email', 'org_policy')`),
    )
    .addColumn('code_hmac', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('consumed_at', 'timestamptz')
    .addColumn('voided_at', 'timestamptz')
    .execute();
  // The send throttle and "a new code voids the previous one" look up a user's latest per purpose.
  await db.schema
    .createIndex('email_challenges_user_purpose_idx')
    .on('email_challenges')
    .columns(['user_id', 'purpose', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('email_challenges').execute();
}

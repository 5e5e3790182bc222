import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('orgs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('mfa_policy', 'text', (c) =>
      c
        .notNull()
        .defaultTo('disabled')
        .check(sql`mfa_policy in ('disabled', 'enabled', 'required')`),
    )
    .addColumn('totp_allowed', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('email_allowed', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('session_epoch', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint(
      'orgs_a_method_while_mfa_on',
      sql`mfa_policy = 'disabled' or totp_allowed or email_allowed`,
    )
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('org_id', 'uuid', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_key', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'member')`))
    .addColumn('password_hash', 'text')
    .addColumn('sso', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('session_epoch', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('users_org_email_key', ['org_id', 'email_key'])
    .addCheckConstraint('users_password_xor_sso', sql`(password_hash is null) = sso`)
    .execute();
  // Keyset pagination of an org's users (created_at, id).
  await db.schema
    .createIndex('users_org_created_idx')
    .on('users')
    .columns(['org_id', 'created_at', 'id'])
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('org_id', 'uuid', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('mfa_required', 'enrollment_required', 'authenticated')`),
    )
    .addColumn('aal', 'smallint', (c) => c.notNull())
    .addColumn('org_epoch', 'integer', (c) => c.notNull())
    .addColumn('user_epoch', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('attempt_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('locked_until', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('setup_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('org_id', 'uuid', (c) => c.references('orgs.id').onDelete('cascade'))
    .addColumn('actor_user_id', 'uuid')
    .addColumn('target_user_id', 'uuid')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('audit_events_org_created_idx')
    .on('audit_events')
    .columns(['org_id', 'created_at', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'audit_events',
    'setup_tokens',
    'attempt_counters',
    'sessions',
    'users',
    'orgs',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}

import { sql, type Kysely } from 'kysely';

/**
 * Portcullis as an OpenID Provider, one issuer per org:
 * - oidc_payloads: the provider's state (sessions, grants, interactions, authorization codes,
 *   access and refresh tokens), one row per object, so that every instance sees the same state
 *   and a restart loses nothing. Every row belongs to one org: one org's issuer never reads
 *   another's codes or sessions.
 * - oidc_apps: the applications an org's admins register (the provider's clients).
 * - oidc_signing_keys: each org's signing keys, private parts encrypted at rest. A retired key
 *   stays published until the tokens it signed have expired.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oidc_payloads')
    .addColumn('org_id', 'uuid', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('user_code', 'text')
    .addColumn('uid', 'text')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('consumed_at', 'timestamptz')
    .addPrimaryKeyConstraint('oidc_payloads_pkey', ['org_id', 'model', 'id'])
    .execute();
  await db.schema
    .createIndex('oidc_payloads_grant_idx')
    .on('oidc_payloads')
    .columns(['org_id', 'grant_id'])
    .where(sql.ref('grant_id'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('oidc_payloads_uid_idx')
    .on('oidc_payloads')
    .columns(['org_id', 'model', 'uid'])
    .where(sql.ref('uid'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('oidc_payloads_user_code_idx')
    .on('oidc_payloads')
    .columns(['org_id', 'model', 'user_code'])
    .where(sql.ref('user_code'), 'is not', null)
    .execute();
  // Everything issued to one user, ended with the user's sessions.
  await sql`create index oidc_payloads_account_idx on oidc_payloads (org_id, (payload->>'accountId'))`.execute(
    db,
  );
  await db.schema
    .createIndex('oidc_payloads_expires_idx')
    .on('oidc_payloads')
    .column('expires_at')
    .execute();

  await db.schema
    .createTable('oidc_apps')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'uuid', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('redirect_uris', 'jsonb', (c) => c.notNull())
    .addColumn('post_logout_redirect_uris', 'jsonb', (c) => c.notNull())
    .addColumn('backchannel_logout_uri', 'text')
    .addColumn('public', 'boolean', (c) => c.notNull())
    .addColumn('client_secret_ciphertext', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addCheckConstraint(
      'oidc_apps_secret_unless_public',
      sql`public = (client_secret_ciphertext is null)`,
    )
    .execute();
  await db.schema
    .createIndex('oidc_apps_org_idx')
    .on('oidc_apps')
    .columns(['org_id', 'created_at', 'client_id'])
    .execute();

  await db.schema
    .createTable('oidc_signing_keys')
    .addColumn('org_id', 'uuid', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
    .addColumn('kid', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'jsonb', (c) => c.notNull())
    .addColumn('private_jwk_ciphertext', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('retired_at', 'timestamptz')
    .addPrimaryKeyConstraint('oidc_signing_keys_pkey', ['org_id', 'kid'])
    .execute();
  // One current key per org: two instances generating the first key at once keep one of them.
  await db.schema
    .createIndex('oidc_signing_keys_current_idx')
    .on('oidc_signing_keys')
    .column('org_id')
    .unique()
    .where(sql.ref('retired_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['oidc_signing_keys', 'oidc_apps', 'oidc_payloads']) {
    await db.schema.dropTable(table).execute();
  }
}

import { sql, type Kysely } from 'kysely';

/**
 * The provider's stable subject (`sub`) of an SSO user, bound at the first sign-in. Email
 * addresses can be reassigned at a provider; the subject cannot, so a later sign-in with the same
 * email but another subject is someone else.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('sso_subject', 'text').execute();
  await sql`create unique index users_org_sso_subject on users (org_id, sso_subject)
    where sso_subject is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_org_sso_subject').execute();
  await db.schema.alterTable('users').dropColumn('sso_subject').execute();
}

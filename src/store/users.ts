import { deleteIssuedFor } from './oidc-payloads.ts';
import type { Kysely } from 'kysely';
import type { Database, NewUser, Org, User } from './schema.ts';
import { orgColumns, splitOrg } from './org-columns.ts';

export type UserWithOrg = { user: User; org: Org };

/** Returns undefined (no row) when the email is already taken in the org. */
export async function insertUser(db: Kysely<Database>, user: NewUser): Promise<User | undefined> {
  return db
    .insertInto('users')
    .values(user)
    .onConflict((oc) => oc.columns(['org_id', 'email_key']).doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findUserForLogin(
  db: Kysely<Database>,
  orgSlug: string,
  emailKey: string,
): Promise<UserWithOrg | undefined> {
  const row = await db
    .selectFrom('users')
    .innerJoin('orgs', 'orgs.id', 'users.org_id')
    .selectAll('users')
    .select(orgColumns)
    .where('orgs.slug', '=', orgSlug)
    .where('users.email_key', '=', emailKey)
    .executeTakeFirst();
  if (!row) return undefined;
  const { org, rest } = splitOrg(row);
  return { org, user: rest };
}

export async function updatePasswordHash(
  db: Kysely<Database>,
  userId: string,
  passwordHash: string,
): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash })
    .where('id', '=', userId)
    .execute();
}

/** Ends every session of the user at once: one row update, whatever their number. */
/** Ends every session of the user, and whatever the org's provider issued from them. */
export async function bumpUserSessionEpoch(db: Kysely<Database>, userId: string): Promise<number> {
  const row = await db
    .updateTable('users')
    .set((eb) => ({ session_epoch: eb('session_epoch', '+', 1) }))
    .where('id', '=', userId)
    .returning(['session_epoch', 'org_id'])
    .executeTakeFirstOrThrow();
  await deleteIssuedFor(db, row.org_id, userId);
  return row.session_epoch;
}

export async function findOrgUser(
  db: Kysely<Database>,
  orgId: string,
  userId: string,
): Promise<User | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', userId)
    .executeTakeFirst();
}

/** The org's admins, to tell them of a change only admins should hear of. */
export async function listOrgAdmins(
  db: Kysely<Database>,
  orgId: string,
): Promise<Pick<User, 'id' | 'email'>[]> {
  return db
    .selectFrom('users')
    .select(['id', 'email'])
    .where('org_id', '=', orgId)
    .where('role', '=', 'admin')
    .execute();
}

/**
 * Takes the user's row lock until the transaction ends: serializes the read-then-write steps of
 * one user (send throttles, "is this the last method") across requests and instances.
 */
export async function lockUserRow(db: Kysely<Database>, userId: string): Promise<void> {
  await db.selectFrom('users').select('id').where('id', '=', userId).forUpdate().execute();
}

export async function findUserById(
  db: Kysely<Database>,
  userId: string,
): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
}

export async function convertUserToSso(db: Kysely<Database>, userId: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ sso: true, password_hash: null })
    .where('id', '=', userId)
    .execute();
}

/** Binds a subject to an SSO user who has none yet; false when another one got there first. */
export async function bindSsoSubject(
  db: Kysely<Database>,
  userId: string,
  subject: string,
): Promise<boolean> {
  const row = await db
    .updateTable('users')
    .set({ sso_subject: subject })
    .where('id', '=', userId)
    .where('sso_subject', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

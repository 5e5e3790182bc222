import { deleteIssuedFor } from './oidc-payloads.ts';
import type { Kysely } from 'kysely';
import type { Database, Org } from './schema.ts';

export async function findOrgBySlug(db: Kysely<Database>, slug: string): Promise<Org | undefined> {
  return db.selectFrom('orgs').selectAll().where('slug', '=', slug).executeTakeFirst();
}

export async function anyOrgExists(db: Kysely<Database>): Promise<boolean> {
  const row = await db.selectFrom('orgs').select('id').limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function insertOrg(
  db: Kysely<Database>,
  org: { slug: string; name: string; createdAt: Date },
): Promise<Org | undefined> {
  return db
    .insertInto('orgs')
    .values({ slug: org.slug, name: org.name, created_at: org.createdAt })
    .onConflict((oc) => oc.column('slug').doNothing())
    .returningAll()
    .executeTakeFirst();
}

/** Ends every session of the org at once: one row update, whatever their number. */
/** Ends every session of the org, and whatever the org's provider issued from them. */
export async function bumpOrgSessionEpoch(db: Kysely<Database>, orgId: string): Promise<number> {
  await deleteIssuedFor(db, orgId, null);
  const row = await db
    .updateTable('orgs')
    .set((eb) => ({ session_epoch: eb('session_epoch', '+', 1) }))
    .where('id', '=', orgId)
    .returning('session_epoch')
    .executeTakeFirstOrThrow();
  return row.session_epoch;
}

export async function findOrgById(db: Kysely<Database>, orgId: string): Promise<Org | undefined> {
  return db.selectFrom('orgs').selectAll().where('id', '=', orgId).executeTakeFirst();
}

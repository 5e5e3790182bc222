import type { Kysely } from 'kysely';
import type { Database, OidcApp } from './schema.ts';

export type NewOidcApp = Omit<OidcApp, 'redirect_uris' | 'post_logout_redirect_uris'> & {
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
};

export async function insertOidcApp(db: Kysely<Database>, app: NewOidcApp): Promise<void> {
  await db
    .insertInto('oidc_apps')
    .values({
      ...app,
      redirect_uris: JSON.stringify(app.redirect_uris),
      post_logout_redirect_uris: JSON.stringify(app.post_logout_redirect_uris),
    })
    .execute();
}

/** An app of the org, or undefined: another org's app is not found, whatever its id. */
export async function findOidcApp(
  db: Kysely<Database>,
  orgId: string,
  clientId: string,
): Promise<OidcApp | undefined> {
  return db
    .selectFrom('oidc_apps')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('client_id', '=', clientId)
    .executeTakeFirst();
}

/** The org's apps, oldest first (an org registers a handful, not thousands). */
export async function listOidcApps(db: Kysely<Database>, orgId: string): Promise<OidcApp[]> {
  return db
    .selectFrom('oidc_apps')
    .selectAll()
    .where('org_id', '=', orgId)
    .orderBy('created_at')
    .orderBy('client_id')
    .execute();
}

export async function updateOidcApp(
  db: Kysely<Database>,
  orgId: string,
  clientId: string,
  changes: {
    name: string;
    redirect_uris: string[];
    post_logout_redirect_uris: string[];
    backchannel_logout_uri: string | null;
    updated_at: Date;
  },
): Promise<OidcApp | undefined> {
  return db
    .updateTable('oidc_apps')
    .set({
      ...changes,
      redirect_uris: JSON.stringify(changes.redirect_uris),
      post_logout_redirect_uris: JSON.stringify(changes.post_logout_redirect_uris),
    })
    .where('org_id', '=', orgId)
    .where('client_id', '=', clientId)
    .returningAll()
    .executeTakeFirst();
}

/** Replaces a confidential app's secret; false when there is no such app or it is public. */
export async function replaceOidcAppSecret(
  db: Kysely<Database>,
  orgId: string,
  clientId: string,
  secretCiphertext: string,
  now: Date,
): Promise<boolean> {
  const row = await db
    .updateTable('oidc_apps')
    .set({ client_secret_ciphertext: secretCiphertext, updated_at: now })
    .where('org_id', '=', orgId)
    .where('client_id', '=', clientId)
    .where('public', '=', false)
    .returning('client_id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function deleteOidcApp(
  db: Kysely<Database>,
  orgId: string,
  clientId: string,
): Promise<boolean> {
  const row = await db
    .deleteFrom('oidc_apps')
    .where('org_id', '=', orgId)
    .where('client_id', '=', clientId)
    .returning('client_id')
    .executeTakeFirst();
  return row !== undefined;
}

import type { Kysely } from 'kysely';
import type { Database, SsoConnection, SsoStatesTable } from './schema.ts';
import type { Selectable } from 'kysely';

export async function findSsoConnection(
  db: Kysely<Database>,
  orgId: string,
): Promise<SsoConnection | undefined> {
  return db
    .selectFrom('sso_connections')
    .selectAll()
    .where('org_id', '=', orgId)
    .executeTakeFirst();
}

export async function saveSsoConnection(
  db: Kysely<Database>,
  connection: Omit<SsoConnection, 'allowed_domains'> & { allowed_domains: string[] },
): Promise<void> {
  const values = { ...connection, allowed_domains: JSON.stringify(connection.allowed_domains) };
  await db
    .insertInto('sso_connections')
    .values(values)
    .onConflict((oc) => oc.column('org_id').doUpdateSet(values))
    .execute();
}

export async function deleteSsoConnection(db: Kysely<Database>, orgId: string): Promise<void> {
  await db.deleteFrom('sso_connections').where('org_id', '=', orgId).execute();
}

export async function insertSsoState(
  db: Kysely<Database>,
  state: Selectable<SsoStatesTable>,
): Promise<void> {
  await db.insertInto('sso_states').values(state).execute();
}

/** Single use: the DELETE that returns the row is the only callback that may go on. */
export async function takeSsoState(
  db: Kysely<Database>,
  stateHash: string,
  now: Date,
): Promise<Selectable<SsoStatesTable> | undefined> {
  return db
    .deleteFrom('sso_states')
    .where('state_hash', '=', stateHash)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
}

import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, OidcPayloadsTable } from './schema.ts';

export type OidcPayloadRow = Selectable<OidcPayloadsTable>;

/** Which object of one org's provider state: oidc-provider's model name and the object's id. */
export type OidcObjectKey = { orgId: string; model: string };

export async function upsertOidcPayload(
  db: Kysely<Database>,
  key: OidcObjectKey,
  row: {
    id: string;
    payload: Record<string, unknown>;
    grantId: string | null;
    userCode: string | null;
    uid: string | null;
    expiresAt: Date | null;
    consumedAt: Date | null;
  },
): Promise<void> {
  const values = {
    payload: JSON.stringify(row.payload),
    grant_id: row.grantId,
    user_code: row.userCode,
    uid: row.uid,
    expires_at: row.expiresAt,
  };
  await db
    .insertInto('oidc_payloads')
    .values({
      org_id: key.orgId,
      model: key.model,
      id: row.id,
      ...values,
      consumed_at: row.consumedAt,
    })
    .onConflict((oc) =>
      oc.columns(['org_id', 'model', 'id']).doUpdateSet((eb) => ({
        ...values,
        // Saving an object again never brings a consumed one back to life.
        consumed_at: eb.fn.coalesce('oidc_payloads.consumed_at', 'excluded.consumed_at'),
      })),
    )
    .execute();
}

/** The live object (not expired at `now`) found by its id, its uid or its user code. */
export async function findOidcPayload(
  db: Kysely<Database>,
  key: OidcObjectKey,
  by: { id: string } | { uid: string } | { userCode: string },
  now: Date,
): Promise<OidcPayloadRow | undefined> {
  let query = db
    .selectFrom('oidc_payloads')
    .selectAll()
    .where('org_id', '=', key.orgId)
    .where('model', '=', key.model)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
  if ('id' in by) query = query.where('id', '=', by.id);
  else if ('uid' in by) query = query.where('uid', '=', by.uid);
  else query = query.where('user_code', '=', by.userCode);
  return query.limit(1).executeTakeFirst();
}

export type ConsumeOutcome =
  | { outcome: 'consumed' }
  | { outcome: 'already_consumed'; grantId: string | null }
  | { outcome: 'missing' };

/**
 * Marks a single-use object (an authorization code, a rotated refresh token) used. The
 * conditional UPDATE is the race guard: of two requests redeeming one code at once, on one
 * instance or two, exactly one sees `consumed`.
 */
export async function consumeOidcPayload(
  db: Kysely<Database>,
  key: OidcObjectKey,
  id: string,
  now: Date,
): Promise<ConsumeOutcome> {
  const consumed = await db
    .updateTable('oidc_payloads')
    .set({ consumed_at: now })
    .where('org_id', '=', key.orgId)
    .where('model', '=', key.model)
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (consumed) return { outcome: 'consumed' };
  const row = await db
    .selectFrom('oidc_payloads')
    .select('grant_id')
    .where('org_id', '=', key.orgId)
    .where('model', '=', key.model)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? { outcome: 'already_consumed', grantId: row.grant_id } : { outcome: 'missing' };
}

export async function deleteOidcPayload(
  db: Kysely<Database>,
  key: OidcObjectKey,
  id: string,
): Promise<void> {
  await db
    .deleteFrom('oidc_payloads')
    .where('org_id', '=', key.orgId)
    .where('model', '=', key.model)
    .where('id', '=', id)
    .execute();
}

/** Deletes the objects of one model issued under a grant. */
export async function deleteOidcPayloadsOfGrant(
  db: Kysely<Database>,
  key: OidcObjectKey,
  grantId: string,
): Promise<void> {
  await db
    .deleteFrom('oidc_payloads')
    .where('org_id', '=', key.orgId)
    .where('model', '=', key.model)
    .where('grant_id', '=', grantId)
    .execute();
}

/** Deletes a grant and everything issued under it (codes, access and refresh tokens). */
export async function deleteOidcGrant(
  db: Kysely<Database>,
  orgId: string,
  grantId: string,
): Promise<void> {
  await db
    .deleteFrom('oidc_payloads')
    .where('org_id', '=', orgId)
    .where((eb) =>
      eb.or([
        eb('grant_id', '=', grantId),
        eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)]),
      ]),
    )
    .execute();
}

/** Deletes what the provider issued to an app (its grants, codes and tokens): the app is gone. */
export async function deleteOidcPayloadsOfClient(
  db: Kysely<Database>,
  orgId: string,
  clientId: string,
): Promise<void> {
  await db
    .deleteFrom('oidc_payloads')
    .where('org_id', '=', orgId)
    .where(sql<string>`payload->>'clientId'`, '=', clientId)
    .execute();
}

/**
 * Ends what the org's provider issued for one user (or for every user of the org): its sessions,
 * grants, codes and tokens. An app's tokens never outlive the Portcullis sessions they came from.
 */
export async function deleteIssuedFor(
  db: Kysely<Database>,
  orgId: string,
  userId: string | null,
): Promise<void> {
  let query = db.deleteFrom('oidc_payloads').where('org_id', '=', orgId);
  if (userId !== null) query = query.where(sql<string>`payload->>'accountId'`, '=', userId);
  await query.execute();
}

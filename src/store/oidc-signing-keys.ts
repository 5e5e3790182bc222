import type { Kysely, Selectable } from 'kysely';
import type { Database, OidcSigningKeysTable } from './schema.ts';

export type OidcSigningKey = Selectable<OidcSigningKeysTable>;

/** The org's keys still published: the current one first, then those retired after `since`. */
export async function listPublishedSigningKeys(
  db: Kysely<Database>,
  orgId: string,
  since: Date,
): Promise<OidcSigningKey[]> {
  const keys = await db
    .selectFrom('oidc_signing_keys')
    .selectAll()
    .where('org_id', '=', orgId)
    .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', since)]))
    .orderBy('created_at', 'desc')
    .execute();
  return [...keys.filter((k) => !k.retired_at), ...keys.filter((k) => k.retired_at)];
}

/**
 * Adds the org's first current key, unless another instance added one meanwhile (the unique index
 * on the current key): then that one is kept, and this one is dropped.
 */
export async function insertFirstSigningKey(
  db: Kysely<Database>,
  key: Omit<OidcSigningKey, 'public_jwk' | 'retired_at'> & { public_jwk: Record<string, unknown> },
): Promise<void> {
  await db
    .insertInto('oidc_signing_keys')
    .values({ ...key, public_jwk: JSON.stringify(key.public_jwk), retired_at: null })
    .onConflict((oc) => oc.column('org_id').where('retired_at', 'is', null).doNothing())
    .execute();
}

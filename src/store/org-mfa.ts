import { sql, type Kysely } from 'kysely';
import type { Database, MfaPolicy, Org } from './schema.ts';

export async function countUsersAndEnrolled(
  db: Kysely<Database>,
  orgId: string,
): Promise<{ total: number; enrolled: number }> {
  const result = await sql<{ total: number; enrolled: number }>`
    select
      (select count(*)::int from users where org_id = ${orgId}) as total,
      (select count(distinct user_id)::int from factors
        where org_id = ${orgId} and state = 'active') as enrolled`.execute(db);
  return result.rows[0] ?? { total: 0, enrolled: 0 };
}

/**
 * Changes the policy only if it is still the one the caller decided from: two admins changing it
 * at once cannot both apply a change computed from the same old value.
 */
export async function updateMfaPolicy(
  db: Kysely<Database>,
  orgId: string,
  from: MfaPolicy,
  to: MfaPolicy,
): Promise<Org | undefined> {
  return db
    .updateTable('orgs')
    .set({ mfa_policy: to })
    .where('id', '=', orgId)
    .where('mfa_policy', '=', from)
    .returningAll()
    .executeTakeFirst();
}

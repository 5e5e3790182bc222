import { sql, type Kysely } from 'kysely';
import type { Database, MfaPolicy, Org } from './schema.ts';

export async function countUsersAndEnrolled(
  db: Kysely<Database>,
  orgId: string,
): Promise<{ total: number; enrolled: number }> {
  const result = await sql<{ total: number; enrolled: number }>`
    select count(*)::int as total, count(*) filter (where mfa_enrolled)::int as enrolled
    from users where org_id = ${orgId}`.execute(db);
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
  let query = db
    .updateTable('orgs')
    .set({ mfa_policy: to })
    .where('id', '=', orgId)
    .where('mfa_policy', '=', from);
  // MFA on needs an allowed method (the table's check constraint): no row rather than an error.
  if (to !== 'disabled') {
    query = query.where((eb) =>
      eb.or([eb('totp_allowed', '=', true), eb('email_allowed', '=', true)]),
    );
  }
  return query.returningAll().executeTakeFirst();
}

/**
 * Conditional on the result keeping a method while MFA is on: the same rule as the table's check
 * constraint, so a concurrent policy change yields no row instead of a constraint error.
 */
export async function updateAllowedMethods(
  db: Kysely<Database>,
  orgId: string,
  methods: { totp: boolean; email: boolean },
): Promise<Org | undefined> {
  let query = db
    .updateTable('orgs')
    .set({ totp_allowed: methods.totp, email_allowed: methods.email })
    .where('id', '=', orgId);
  if (!methods.totp && !methods.email) query = query.where('mfa_policy', '=', 'disabled');
  return query.returningAll().executeTakeFirst();
}

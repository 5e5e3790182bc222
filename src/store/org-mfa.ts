import { sql, type Kysely } from 'kysely';
import type { MfaMethod } from '../core/mfa-policy.ts';
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
  if (to !== 'disabled') query = query.where(sql<boolean>`cardinality(mfa_methods) > 0`);
  return query.returningAll().executeTakeFirst();
}

/**
 * Conditional on the result keeping a method while MFA is on: the same rule as the table's check
 * constraint, so a concurrent policy change yields no row instead of a constraint error.
 */
export async function updateAllowedMethods(
  db: Kysely<Database>,
  orgId: string,
  methods: MfaMethod[],
): Promise<Org | undefined> {
  let query = db.updateTable('orgs').set({ mfa_methods: methods }).where('id', '=', orgId);
  if (methods.length === 0) query = query.where('mfa_policy', '=', 'disabled');
  return query.returningAll().executeTakeFirst();
}

/**
 * Users who would have nothing to verify with if only `allowed` stayed on: an active factor, none
 * of an allowed method, and no unused recovery code. SSO users hold no factors.
 */
export async function countUsersLeftWithoutMethod(
  db: Kysely<Database>,
  orgId: string,
  allowed: MfaMethod[],
): Promise<number> {
  const allowedTypes = allowed.length > 0 ? allowed : ['none'];
  const result = await sql<{ stranded: number }>`
    select count(*)::int as stranded from users u
    where u.org_id = ${orgId} and u.mfa_enrolled
      and not exists (select 1 from factors f where f.user_id = u.id and f.state = 'active'
        and f.type in (${sql.join(allowedTypes)}))
      and not exists (select 1 from recovery_codes r where r.user_id = u.id and r.used_at is null)`.execute(
    db,
  );
  return result.rows[0]?.stranded ?? 0;
}

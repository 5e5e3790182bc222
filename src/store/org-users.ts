import type { Kysely } from 'kysely';
import type { Cursor } from '../core/cursor.ts';
import type { Database, Role } from './schema.ts';

export type MfaStatus = 'enrolled' | 'not_enrolled' | 'sso';

export type ListedUser = {
  id: string;
  email: string;
  name: string;
  role: Role;
  sso: boolean;
  mfa: MfaStatus;
  created_at: Date;
};

/**
 * One page of an org's users in a stable order (created_at, id), with each user's MFA status from
 * the user row itself (no N+1, no per-row subquery). Keyset pagination: users added while someone
 * pages through never shift a page, so nothing is seen twice or skipped. Each filter is a range
 * of the index (org_id, sso, mfa_enrolled, created_at, id).
 */
export async function listOrgUsers(
  db: Kysely<Database>,
  orgId: string,
  options: { after: Cursor | null; limit: number; mfa: MfaStatus | null },
): Promise<ListedUser[]> {
  let query = db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'role', 'sso', 'mfa_enrolled', 'created_at'])
    .where('org_id', '=', orgId);
  if (options.after) {
    const { at, id } = options.after;
    query = query.where((eb) =>
      eb.or([eb('created_at', '>', at), eb.and([eb('created_at', '=', at), eb('id', '>', id)])]),
    );
  }
  if (options.mfa === 'sso') query = query.where('sso', '=', true);
  if (options.mfa === 'enrolled')
    query = query.where('sso', '=', false).where('mfa_enrolled', '=', true);
  if (options.mfa === 'not_enrolled') {
    query = query.where('sso', '=', false).where('mfa_enrolled', '=', false);
  }
  const rows = await query.orderBy('created_at').orderBy('id').limit(options.limit).execute();
  return rows.map(({ mfa_enrolled, ...user }) => ({
    ...user,
    mfa: user.sso ? 'sso' : mfa_enrolled ? 'enrolled' : 'not_enrolled',
  }));
}

import { sql, type Kysely } from 'kysely';
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
 * One page of an org's users in a stable order (created_at, id), with each user's MFA status in
 * the same query (an EXISTS per row on an index, no N+1). Keyset pagination: users added while
 * someone pages through never shift a page, so nothing is seen twice or skipped.
 */
export async function listOrgUsers(
  db: Kysely<Database>,
  orgId: string,
  options: { after: Cursor | null; limit: number; mfa: MfaStatus | null },
): Promise<ListedUser[]> {
  const hasActiveFactor = sql<boolean>`exists (
    select 1 from factors where factors.user_id = users.id and factors.state = 'active')`;
  let query = db
    .selectFrom('users')
    .select(['id', 'email', 'name', 'role', 'sso', 'created_at'])
    .select(hasActiveFactor.as('enrolled'))
    .where('org_id', '=', orgId);
  if (options.after) {
    const { at, id } = options.after;
    query = query.where((eb) =>
      eb.or([eb('created_at', '>', at), eb.and([eb('created_at', '=', at), eb('id', '>', id)])]),
    );
  }
  if (options.mfa === 'sso') query = query.where('sso', '=', true);
  if (options.mfa === 'enrolled') query = query.where('sso', '=', false).where(hasActiveFactor);
  if (options.mfa === 'not_enrolled') {
    query = query.where('sso', '=', false).where(sql<boolean>`not ${hasActiveFactor}`);
  }
  const rows = await query.orderBy('created_at').orderBy('id').limit(options.limit).execute();
  return rows.map(({ enrolled, ...user }) => ({
    ...user,
    mfa: user.sso ? 'sso' : enrolled ? 'enrolled' : 'not_enrolled',
  }));
}

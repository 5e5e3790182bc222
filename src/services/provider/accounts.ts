import type { Account } from 'oidc-provider';
import { isUuid } from '../../core/cursor.ts';
import { findOrgById } from '../../store/orgs.ts';
import { findUserById } from '../../store/users.ts';
import type { ServiceDeps } from '../deps.ts';

/**
 * The user an org's provider speaks of: only a user of that org, whatever id a token or session
 * carries. `sub` is the user's id, stable for the user's life.
 */
export async function findAccount(
  deps: Pick<ServiceDeps, 'db'>,
  orgId: string,
  userId: string,
): Promise<Account | undefined> {
  if (!isUuid(userId)) return undefined;
  const user = await findUserById(deps.db, userId);
  if (!user || user.org_id !== orgId) return undefined;
  const org = await findOrgById(deps.db, orgId);
  if (!org) return undefined;
  return {
    accountId: user.id,
    claims: () => ({
      sub: user.id,
      org: org.slug,
      email: user.email,
      // Never claimed: an admin types addresses in, and an SSO user's upstream provider may not
      // have said it verified theirs (an org's own provider may assert any address). An app that
      // links accounts by a verified email must not link on Portcullis's word.
      email_verified: false,
      name: user.name,
    }),
  };
}

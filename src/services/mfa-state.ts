import type { Kysely } from 'kysely';
import type { OrgMfa, UserMfa } from '../core/mfa-policy.ts';
import { findActiveFactors, summarizeFactors } from '../store/factors.ts';
import type { Database, Factor, Org, User } from '../store/schema.ts';

export function orgMfaOf(org: Org): OrgMfa {
  return { policy: org.mfa_policy, totpAllowed: org.totp_allowed, emailAllowed: org.email_allowed };
}

export async function userMfaOf(db: Kysely<Database>, user: User): Promise<UserMfa> {
  if (user.sso) return { sso: true, activeMethods: [], recoveryCodesRemaining: 0 };
  const summary = await summarizeFactors(db, user.id);
  return { sso: false, ...summary };
}

/** The user's active factors (secrets included) and what they mean for MFA, in one round trip. */
export async function activeFactorsOf(
  db: Kysely<Database>,
  user: User,
): Promise<{ factors: Factor[]; userMfa: UserMfa }> {
  if (user.sso) {
    return { factors: [], userMfa: { sso: true, activeMethods: [], recoveryCodesRemaining: 0 } };
  }
  const { factors, recoveryCodesRemaining } = await findActiveFactors(db, user.id);
  const activeMethods = factors.map((factor) => factor.type);
  return { factors, userMfa: { sso: false, activeMethods, recoveryCodesRemaining } };
}

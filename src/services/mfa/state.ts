import type { Kysely } from 'kysely';
import { MFA_METHODS } from '../../core/factor-methods.ts';
import type { OrgMfa, UserMfa } from '../../core/mfa-policy.ts';
import { findActiveFactors, summarizeFactors } from '../../store/factors.ts';
import type { Database, Factor, Org, User } from '../../store/schema.ts';
import { FACTORS } from './registry.ts';

export function orgMfaOf(org: Org): OrgMfa {
  return { policy: org.mfa_policy, methods: org.mfa_methods };
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
  const held = await findActiveFactors(db, user.id);
  // Each method's strategy counts what the user holds of it.
  const activeMethods = MFA_METHODS.filter((method) => FACTORS[method].countActive(held) > 0);
  const recoveryCodesRemaining = FACTORS.recovery_code.countActive(held);
  return { factors: held.factors, userMfa: { sso: false, activeMethods, recoveryCodesRemaining } };
}

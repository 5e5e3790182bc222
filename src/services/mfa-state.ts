import type { Kysely } from 'kysely';
import type { OrgMfa, UserMfa } from '../core/mfa-policy.ts';
import { summarizeFactors } from '../store/factors.ts';
import type { Database, Org, User } from '../store/schema.ts';

export function orgMfaOf(org: Org): OrgMfa {
  return { policy: org.mfa_policy, totpAllowed: org.totp_allowed, emailAllowed: org.email_allowed };
}

export async function userMfaOf(db: Kysely<Database>, user: User): Promise<UserMfa> {
  if (user.sso) return { sso: true, activeMethods: [], recoveryCodesRemaining: 0 };
  const summary = await summarizeFactors(db, user.id);
  return { sso: false, ...summary };
}

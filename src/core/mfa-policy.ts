/** Who must do what about the second factor: pure decisions from the org's and user's state. */

import { inMethodOrder, type MfaMethod, type VerificationMethod } from './factor-methods.ts';

export type { MfaMethod, VerificationMethod };
export type MfaPolicy = 'disabled' | 'enabled' | 'required';
export type SessionStatus = 'mfa_required' | 'enrollment_required' | 'authenticated';

/** The org's policy and the set of methods it allows, in any order. */
export type OrgMfa = { policy: MfaPolicy; methods: readonly MfaMethod[] };
export type UserMfa = {
  sso: boolean;
  activeMethods: readonly MfaMethod[];
  recoveryCodesRemaining: number;
};

const POLICY_STRENGTH: Record<MfaPolicy, number> = { disabled: 0, enabled: 1, required: 2 };

/** The methods the org allows, in their offering order. */
export function allowedMethods(org: OrgMfa): MfaMethod[] {
  return inMethodOrder(org.methods);
}

/**
 * What a user may verify with: each active factor whose method the org allows, then recovery
 * codes if any are left. A factor of a method the org turned off is not offered, so a user may be
 * left with only "recovery_code", which is then offered alone.
 */
export function offeredMethods(org: OrgMfa, user: UserMfa): VerificationMethod[] {
  if (org.policy === 'disabled' || user.sso || user.activeMethods.length === 0) return [];
  // In a fixed order (authenticator app first), whatever order the factors were enrolled in.
  const offered: VerificationMethod[] = allowedMethods(org).filter((m) =>
    user.activeMethods.includes(m),
  );
  if (user.recoveryCodesRemaining > 0) offered.push('recovery_code');
  return offered;
}

/** True when sign-in and sensitive actions must ask this user for a second factor. */
export function mfaApplies(org: OrgMfa, user: UserMfa): boolean {
  return offeredMethods(org, user).length > 0;
}

/**
 * A user who holds a factor but has nothing the org still lets them verify with: an admin turned
 * their only method off and no recovery code is left. They must never fall back to the password
 * alone, nor enroll a new factor at AAL1: either would let a stolen password undo their MFA.
 */
export function hasNoUsableMethod(org: OrgMfa, user: UserMfa): boolean {
  if (org.policy === 'disabled' || user.sso) return false;
  return user.activeMethods.length > 0 && !mfaApplies(org, user);
}

/**
 * The session's state once the password is right, or null when the user has no usable method
 * left (sign-in is refused). SSO users never do TOTP or email MFA.
 */
export function statusAfterPassword(org: OrgMfa, user: UserMfa): SessionStatus | null {
  if (hasNoUsableMethod(org, user)) return null;
  if (user.sso || org.policy === 'disabled') return 'authenticated';
  if (mfaApplies(org, user)) return 'mfa_required';
  return org.policy === 'required' ? 'enrollment_required' : 'authenticated';
}

/**
 * The session's state once the second factor is proven. Under "required", a user who could only
 * verify with a recovery code (their method was turned off) must now enroll an allowed method.
 */
export function statusAfterVerification(org: OrgMfa, user: UserMfa): SessionStatus {
  if (org.policy !== 'required') return 'authenticated';
  const allowed = allowedMethods(org);
  return user.activeMethods.some((m) => allowed.includes(m))
    ? 'authenticated'
    : 'enrollment_required';
}

/**
 * Whether a session sent to enrollment must not enroll: its user now has an allowed method
 * (enrolled from another session meanwhile), or, for a session that has proved nothing but the
 * password (AAL1), any factor at all, usable or not. Otherwise a password-only session could
 * replace the user's factor and come out at AAL2 without ever proving it.
 */
export function enrollmentSuperseded(org: OrgMfa, user: UserMfa, aal: number): boolean {
  const allowed = allowedMethods(org);
  if (user.activeMethods.some((method) => allowed.includes(method))) return true;
  return aal < 2 && user.activeMethods.length > 0;
}

export function isStrengthening(from: MfaPolicy, to: MfaPolicy): boolean {
  return POLICY_STRENGTH[to] > POLICY_STRENGTH[from];
}

export function isWeakening(from: MfaPolicy, to: MfaPolicy): boolean {
  return POLICY_STRENGTH[to] < POLICY_STRENGTH[from];
}

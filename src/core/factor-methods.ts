/**
 * The second-factor methods a user can enroll, in the order they are offered (the authenticator
 * app first, whatever order a user enrolled them in). Each has its strategy in
 * src/services/mfa/<method>/, registered in src/services/mfa/registry.ts. Recovery codes are no
 * method of their own: they come with the first method and answer for any.
 */
export const MFA_METHODS = ['totp', 'email'] as const;

export type MfaMethod = (typeof MFA_METHODS)[number];
export type VerificationMethod = MfaMethod | 'recovery_code';

export const VERIFICATION_METHODS: readonly VerificationMethod[] = [
  ...MFA_METHODS,
  'recovery_code',
];

export function isMfaMethod(name: string): name is MfaMethod {
  return (MFA_METHODS as readonly string[]).includes(name);
}

/** The methods in their offering order, each once, from any list of them. */
export function inMethodOrder(methods: readonly string[]): MfaMethod[] {
  return MFA_METHODS.filter((method) => methods.includes(method));
}

/** One yes or no per method: how the org's allowed methods read on the wire and in the audit. */
export type MethodFlags = Record<MfaMethod, boolean>;

export function methodFlags(methods: readonly string[]): MethodFlags {
  return Object.fromEntries(MFA_METHODS.map((m) => [m, methods.includes(m)])) as MethodFlags;
}

export function flaggedMethods(flags: MethodFlags): MfaMethod[] {
  return MFA_METHODS.filter((method) => flags[method]);
}

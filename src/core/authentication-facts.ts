import type { VerificationMethod } from './factor-methods.ts';

/**
 * How a session's user authenticated, in the terms an OpenID Provider states in an ID token:
 * when (auth_time), by which methods (amr, RFC 8176 values) and to what level (acr). Every
 * session has them from its sign-in; a factor proven later (the second factor, a step-up) adds to
 * them. Pure: the time comes in as an argument.
 */
export type AuthenticationFacts = { authTime: Date; acr: Acr; amr: string[] };

/**
 * The levels a session can reach, weakest first, so that "at least this level" (acr_values) is a
 * comparison of positions. Named by what was proven rather than numbered, so that they are not
 * taken for the session's aal, and so that a later level (phishing-resistant, with passkeys) can
 * be added without renumbering what apps already asked for.
 */
export const ACR_VALUES = ['urn:portcullis:acr:1fa', 'urn:portcullis:acr:mfa'] as const;
export type Acr = (typeof ACR_VALUES)[number];
export const ACR_SINGLE_FACTOR: Acr = 'urn:portcullis:acr:1fa';
export const ACR_MULTI_FACTOR: Acr = 'urn:portcullis:acr:mfa';

type FactorKind = 'knowledge' | 'possession' | 'inherence';

/**
 * The amr values a session may carry: the IANA registry of RFC 8176, with the kind of factor each
 * one proves (null: not a factor of its own), plus `fed` (authenticated by a federated identity
 * provider, as Microsoft Entra and others say it). An identity provider's other values are its own
 * vocabulary and are not passed on: apps read only values whose meaning is agreed.
 */
const AMR_VALUES: Readonly<Record<string, FactorKind | null>> = {
  pwd: 'knowledge',
  pin: 'knowledge',
  kba: 'knowledge',
  otp: 'possession',
  sms: 'possession',
  tel: 'possession',
  hwk: 'possession',
  swk: 'possession',
  sc: 'possession',
  pop: 'possession',
  fpt: 'inherence',
  face: 'inherence',
  iris: 'inherence',
  retina: 'inherence',
  vbm: 'inherence',
  geo: null,
  mca: null,
  mfa: null,
  rba: null,
  user: null,
  wia: null,
  fed: null,
};

/** How Portcullis itself authenticates a user. */
export type LocalMethod = 'password' | VerificationMethod;

/**
 * TOTP, an emailed code and a recovery code are all one-time codes, from a device, a mailbox or
 * a printed sheet the user holds: RFC 8176 has `otp` for them and no finer value.
 */
const AMR_OF_METHOD: Readonly<Record<LocalMethod, string>> = {
  password: 'pwd',
  totp: 'otp',
  email: 'otp',
  recovery_code: 'otp',
};

/** What an identity provider's ID token said of the user's authentication there. */
export type FederatedAuthentication = { authTime: Date | null; amr: readonly unknown[] | null };

/** One authentication: by Portcullis itself, or at the org's identity provider. */
export type Authentication =
  { method: LocalMethod } | { method: 'federated'; idp: FederatedAuthentication };

/**
 * The facts once `authentication` has succeeded, `previous` being the session's facts before it
 * (null for a sign-in). Methods add up within a session: a password proven at sign-in and a code
 * proven at step-up make a multi-factor session, whose auth_time is the latest of the two.
 */
export function authenticate(
  previous: { authTime: Date; amr: readonly string[] } | null,
  authentication: Authentication,
  now: Date,
): AuthenticationFacts {
  const methods =
    authentication.method === 'federated'
      ? ['fed', ...knownValues(authentication.idp.amr)]
      : [AMR_OF_METHOD[authentication.method]];
  const at =
    authentication.method === 'federated' ? federatedAuthTime(authentication.idp, now) : now;
  const amr = [...new Set([...(previous?.amr ?? []), ...methods])];
  const multiFactor = amr.includes('mfa') || factorKinds(amr) >= 2;
  if (multiFactor && !amr.includes('mfa')) amr.push('mfa');
  const latest = previous && previous.authTime > at ? previous.authTime : at;
  return { authTime: latest, acr: multiFactor ? ACR_MULTI_FACTOR : ACR_SINGLE_FACTOR, amr };
}

function knownValues(values: readonly unknown[] | null): string[] {
  return (values ?? []).filter(
    (value): value is string => typeof value === 'string' && Object.hasOwn(AMR_VALUES, value),
  );
}

function factorKinds(amr: readonly string[]): number {
  return new Set(amr.map((value) => AMR_VALUES[value]).filter((kind) => kind)).size;
}

/**
 * The provider's auth_time, never later than now (its clock may run ahead). A provider that gives
 * none authenticated the user at the latest when it sent them back: the time of the callback.
 */
function federatedAuthTime(idp: FederatedAuthentication, now: Date): Date {
  return idp.authTime && idp.authTime < now ? idp.authTime : now;
}

import {
  authenticationRequestOf,
  meetsAuthenticationRequest,
} from '../../core/authentication-request.ts';
import { ACR_MULTI_FACTOR } from '../../core/authentication-facts.ts';
import {
  allowedMethods,
  offeredMethods,
  type OrgMfa,
  type UserMfa,
} from '../../core/mfa-policy.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { loginOf, type ConsoleLogin } from './console-session.ts';

/** What the interaction of an authorization request does next. */
export type InteractionStep =
  /** The console session meets the request: the provider goes on with this login. */
  | { step: 'login'; login: ConsoleLogin }
  /** No fully signed-in console session of the org: the console's sign-in, then back. */
  | { step: 'sign_in' }
  /**
   * The user has no second factor and must enroll one first: the org requires it (the session
   * waits for its enrollment), or the request asks for MFA and the org lets the user enroll.
   * The console's enrollment, then back.
   */
  | { step: 'enroll' }
  /**
   * The session does not meet max_age or the acr asked for, and the user has a second factor to
   * prove: the console's verification screen, then back (the fresh factor moves auth_time).
   */
  | { step: 'verify' }
  /**
   * The session does not meet the request and the user has nothing to prove it with (MFA off in
   * the org, or no factor): the app is told at once (OpenID Connect Unmet Authentication
   * Requirements 1.0) instead of a code for a weaker authentication than it asked, or a loop.
   */
  | { step: 'unmet' };

/** The console session of the request, with its org's and user's MFA state. */
export type InteractionSubject = { context: SessionContext; orgMfa: OrgMfa; userMfa: UserMfa };

/**
 * The next step for the browser's console session of the org (any state; undefined: none).
 * `verifyingSince` is when this interaction first sent the user to verify (or enroll) a factor: a
 * session authenticated at or after it is fresh for this request whatever its max_age (max_age=0
 * means "authenticate now", and the user did, after the request was made).
 */
export function nextInteractionStep(
  subject: InteractionSubject | undefined,
  params: Record<string, unknown>,
  verifyingSince: Date | null,
  now: Date,
): InteractionStep {
  if (!subject) return { step: 'sign_in' };
  const { context } = subject;
  if (context.session.status === 'enrollment_required') return { step: 'enroll' };
  if (context.session.status !== 'authenticated') return { step: 'sign_in' };
  const facts = { authTime: context.session.auth_time, acr: context.session.acr };
  const request = authenticationRequestOf(params);
  const verifiedForThis =
    verifyingSince !== null &&
    facts.authTime >= verifyingSince &&
    meetsAuthenticationRequest(facts, { ...request, maxAgeSeconds: null }, now);
  if (verifiedForThis || meetsAuthenticationRequest(facts, request, now)) {
    return { step: 'login', login: loginOf(context) };
  }
  // A level no fresh factor reaches (one Portcullis does not know) is never asked for.
  const reachable = meetsAuthenticationRequest(
    { authTime: now, acr: ACR_MULTI_FACTOR },
    request,
    now,
  );
  if (!reachable) return { step: 'unmet' };
  if (offeredMethods(subject.orgMfa, subject.userMfa).length > 0) return { step: 'verify' };
  if (mayEnroll(subject.orgMfa, subject.userMfa)) return { step: 'enroll' };
  return { step: 'unmet' };
}

/**
 * A user without any factor, in an org with MFA on, may add one. A user whose factors the org
 * no longer allows may not (hasNoUsableMethod): only an admin's reset lets them start again.
 */
function mayEnroll(org: OrgMfa, user: UserMfa): boolean {
  return (
    org.policy !== 'disabled' &&
    !user.sso &&
    user.activeMethods.length === 0 &&
    allowedMethods(org).length > 0
  );
}

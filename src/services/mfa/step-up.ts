import type { Kysely } from 'kysely';
import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import {
  hasNoUsableMethod,
  mfaApplies,
  offeredMethods,
  type VerificationMethod,
} from '../../core/mfa-policy.ts';
import type { Database } from '../../store/schema.ts';
import { consumeSsoReauthentication } from '../../store/sessions.ts';
import { SSO_REAUTH_SECONDS } from '../../core/limits.ts';
import type { SensitiveActionName } from '../../core/sensitive-actions.ts';
import { assertUserLocked } from '../../store/transaction.ts';
import { ssoStartPath } from '../sso/paths.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { recordAuthentication } from '../session/auth.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { orgMfaOf, userMfaOf } from './state.ts';
import {
  verifySecondFactor,
  type TooManyAttempts,
  type VerificationInput,
} from './verification.ts';

export type VerificationRequired = Failure<'verification_required'> & {
  /** The action that asked (src/core/sensitive-actions.ts), named in the answer. */
  action: SensitiveActionName;
  methods: (VerificationMethod | 'sso')[];
  /** For SSO users: where to re-authenticate at the identity provider. */
  ssoUrl?: string;
};

export type StepUpResult =
  | Result<'not_needed' | VerificationMethod | 'sso', 'invalid_code' | 'no_usable_method'>
  | VerificationRequired
  | TooManyAttempts;

export type StepUpFailure = Exclude<StepUpResult, { ok: true }>;

/**
 * A sensitive action (one of src/core/sensitive-actions.ts, named by `action`) asks for a fresh
 * second factor when MFA applies to the user; the audit events of the verification record the
 * action as `verified_for`. Run it inside
 * the action's transaction (tx): the code is consumed only if the action commits with it, and a
 * code consumed here cannot serve any other request. That transaction is opened by
 * userTransaction with the user's row locked first, so that parallel step-ups of one user queue
 * on that row instead of deadlocking on the rows each of them writes.
 */
export async function checkStepUp(
  deps: ServiceDeps,
  tx: Kysely<Database>,
  context: SessionContext,
  action: SensitiveActionName,
  verification: VerificationInput | undefined,
  origin: RequestOrigin,
): Promise<StepUpResult> {
  assertUserLocked(tx, context.user.id);
  if (context.user.sso) return checkSsoStepUp(deps, tx, context, action, verification);
  const userMfa = await userMfaOf(tx, context.user);
  const org = orgMfaOf(context.org);
  // A method turned off must not turn step-up off for the users who relied on it.
  if (hasNoUsableMethod(org, userMfa)) return fail('no_usable_method');
  if (!mfaApplies(org, userMfa)) return ok('not_needed');
  if (!verification) {
    return {
      ok: false,
      error: 'verification_required',
      action,
      methods: offeredMethods(org, userMfa),
    };
  }
  const verified = await verifySecondFactor(deps, tx, context, verification, {
    origin,
    purpose: 'step_up',
    action,
  });
  // A fresh factor is a fresh authentication of the session: auth_time, amr and acr move.
  if (verified.ok) {
    await recordAuthentication(deps, tx, context.session.token_hash, { method: verified.value });
  }
  return verified;
}

/**
 * SSO users prove themselves again at their identity provider (prompt=login, max_age=0), never
 * with a code: the callback marks the session, and one sensitive action spends the mark.
 */
async function checkSsoStepUp(
  deps: ServiceDeps,
  tx: Kysely<Database>,
  context: SessionContext,
  action: SensitiveActionName,
  verification: VerificationInput | undefined,
): Promise<StepUpResult> {
  const notBefore = new Date(deps.clock.now().getTime() - SSO_REAUTH_SECONDS * 1000);
  if (
    verification?.method === 'sso' &&
    (await consumeSsoReauthentication(tx, context.session.token_hash, notBefore))
  ) {
    return ok('sso');
  }
  return {
    ok: false,
    error: 'verification_required',
    action,
    methods: ['sso'],
    ssoUrl: `${ssoStartPath(context.org.slug)}?purpose=step_up`,
  };
}

import type { Kysely } from 'kysely';
import { ok, type Failure, type Result } from '../core/errors.ts';
import { mfaApplies, offeredMethods, type VerificationMethod } from '../core/mfa-policy.ts';
import type { Database } from '../store/schema.ts';
import type { SessionContext } from '../store/sessions.ts';
import type { RequestOrigin, ServiceDeps } from './deps.ts';
import { orgMfaOf, userMfaOf } from './mfa-state.ts';
import {
  verifySecondFactor,
  type TooManyAttempts,
  type VerificationInput,
} from './verification.ts';

export type VerificationRequired = Failure<'verification_required'> & {
  methods: VerificationMethod[];
};

export type StepUpResult =
  | Result<'not_needed' | VerificationMethod, 'invalid_code'>
  | VerificationRequired
  | TooManyAttempts;

export type StepUpFailure = Exclude<StepUpResult, { ok: true }>;

/**
 * A sensitive action asks for a fresh second factor when MFA applies to the user. Run it inside
 * the action's transaction (tx): the code is consumed only if the action commits with it, and a
 * code consumed here cannot serve any other request.
 */
export async function checkStepUp(
  deps: ServiceDeps,
  tx: Kysely<Database>,
  context: SessionContext,
  verification: VerificationInput | undefined,
  origin: RequestOrigin,
): Promise<StepUpResult> {
  const userMfa = await userMfaOf(tx, context.user);
  const org = orgMfaOf(context.org);
  if (!mfaApplies(org, userMfa)) return ok('not_needed');
  if (!verification) {
    return { ok: false, error: 'verification_required', methods: offeredMethods(org, userMfa) };
  }
  return verifySecondFactor(deps, tx, context, verification, { origin, purpose: 'step_up' });
}

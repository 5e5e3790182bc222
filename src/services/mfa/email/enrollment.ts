import { fail, ok, type Failure, type Result } from '../../../core/errors.ts';
import { findOpenChallengeId } from '../../../store/email-challenges.ts';
import { activateEmailFactor } from '../../../store/factors.ts';
import type { SessionContext } from '../../../store/sessions.ts';
import { userTransaction } from '../../../store/transaction.ts';
import type { RateLimited } from '../../session/auth.ts';
import type { RequestOrigin, ServiceDeps } from '../../deps.ts';
import { redeemEmailCode, sendEmailCode } from '../email-codes.ts';
import {
  announceEnrollment,
  completeEnrollment,
  enrollmentRefusal,
  supersededEnrollment,
  type EnrollmentCompleted,
  type EnrollmentRefusal,
} from '../enrollment.ts';
import { checkStepUp, type StepUpFailure } from '../step-up.ts';
import type { VerificationInput } from '../verification.ts';

/**
 * Enrolling the email method: a one-time code goes to the account's address, bound to this session,
 * and typing it back confirms the method. A fully signed-in user who already has a factor steps up
 * first, in the same request.
 */
export async function startEmailSetup(
  deps: ServiceDeps,
  context: SessionContext,
  verification: VerificationInput | undefined,
  origin: RequestOrigin,
): Promise<
  | Result<{ expiresAt: Date }>
  | EnrollmentRefusal
  | StepUpFailure
  | Failure<'email_unavailable'>
  | RateLimited
> {
  const refusal = enrollmentRefusal(context, 'email');
  if (refusal) return refusal;
  // The step-up is spent in the same transaction as the send: a refused send gives it back.
  const sent = await sendEmailCode(
    deps,
    context,
    { purpose: 'enroll_email', sessionTokenHash: context.session.token_hash },
    async (tx) => {
      if (context.session.status !== 'authenticated') return supersededEnrollment(tx, context);
      const stepUp = await checkStepUp(deps, tx, context, 'add_method', verification, origin);
      return stepUp.ok ? null : stepUp;
    },
  );
  return sent.ok ? ok({ expiresAt: sent.value.expiresAt }) : sent;
}

/** The code from the inbox proves the address: the email method becomes active. */
export async function confirmEmailSetup(
  deps: ServiceDeps,
  context: SessionContext,
  code: string,
  origin: RequestOrigin,
): Promise<Result<EnrollmentCompleted, 'invalid_code' | 'no_pending_setup'> | EnrollmentRefusal> {
  const refusal = enrollmentRefusal(context, 'email');
  if (refusal) return refusal;
  const now = deps.clock.now();
  const binding = {
    userId: context.user.id,
    orgId: context.org.id,
    purpose: 'enroll_email' as const,
  };
  const confirmed = await userTransaction(deps.db, [context.user.id], async (tx) => {
    const superseded = await supersededEnrollment(tx, context);
    if (superseded) return superseded;
    const challengeId = await findOpenChallengeId(tx, binding, context.session.token_hash, now);
    if (!challengeId) return fail('no_pending_setup');
    const redeemed = await redeemEmailCode(
      deps,
      tx,
      challengeId,
      { ...binding, sessionTokenHash: context.session.token_hash },
      code,
    );
    if (!redeemed.ok) return redeemed;
    await activateEmailFactor(tx, { userId: context.user.id, orgId: context.org.id, now });
    return ok(await completeEnrollment(deps, tx, context, 'email', origin));
  });
  if (confirmed.ok) announceEnrollment(deps, context, 'email');
  return confirmed;
}

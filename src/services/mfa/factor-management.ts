import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import type { MfaMethod } from '../../core/mfa-policy.ts';
import { methodDisabledMessage } from '../../mail/templates.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import { deleteActiveFactor } from '../../store/factors.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { userTransaction } from '../../store/transaction.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { issueRecoveryCodes } from './enrollment.ts';
import { userMfaOf } from './state.ts';
import { notifyUser } from '../notify.ts';
import { checkStepUp, type StepUpFailure } from './step-up.ts';
import type { VerificationInput } from './verification.ts';

/**
 * Disabling one of the user's methods takes a verification (step-up) in the same request. Under
 * "required" the last active method stays (409). The check, the step-up and the removal share one
 * transaction, so two parallel disables cannot remove both methods.
 */
export async function disableMethod(
  deps: ServiceDeps,
  context: SessionContext,
  input: { method: MfaMethod; verification?: VerificationInput },
  origin: RequestOrigin,
): Promise<Result<true> | Failure<'method_not_enabled' | 'last_method_required'> | StepUpFailure> {
  const { user, org } = context;
  const result = await userTransaction(deps.db, [user.id], async (tx) => {
    const { activeMethods } = await userMfaOf(tx, user);
    if (!activeMethods.includes(input.method)) return fail('method_not_enabled');
    if (org.mfa_policy === 'required' && activeMethods.length === 1) {
      return fail('last_method_required');
    }
    const stepUp = await checkStepUp(
      deps,
      tx,
      context,
      'disable_method',
      input.verification,
      origin,
    );
    if (!stepUp.ok) return stepUp;
    await deleteActiveFactor(tx, user.id, input.method);
    await appendAuditEvent(tx, {
      type: 'mfa.disabled',
      orgId: org.id,
      actorUserId: user.id,
      targetUserId: user.id,
      ...origin,
      details: { method: input.method },
      at: deps.clock.now(),
    });
    return ok(true as const);
  });
  if (result.ok) notifyUser(deps, user.email, methodDisabledMessage(org.name, input.method));
  return result;
}

/** A fresh set of 10 codes; the old set is dead in the same transaction. */
export async function regenerateRecoveryCodes(
  deps: ServiceDeps,
  context: SessionContext,
  verification: VerificationInput | undefined,
  origin: RequestOrigin,
): Promise<Result<string[]> | Failure<'no_method_enabled'> | StepUpFailure> {
  const { user, org } = context;
  return userTransaction(deps.db, [user.id], async (tx) => {
    if ((await userMfaOf(tx, user)).activeMethods.length === 0) return fail('no_method_enabled');
    const stepUp = await checkStepUp(
      deps,
      tx,
      context,
      'regenerate_recovery_codes',
      verification,
      origin,
    );
    if (!stepUp.ok) return stepUp;
    const now = deps.clock.now();
    const codes = await issueRecoveryCodes(deps, tx, user.id, now);
    await appendAuditEvent(tx, {
      type: 'mfa.recovery_codes_regenerated',
      orgId: org.id,
      actorUserId: user.id,
      targetUserId: user.id,
      ...origin,
      at: now,
    });
    return ok(codes);
  });
}

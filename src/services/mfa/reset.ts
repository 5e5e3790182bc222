import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import { isUuid } from '../../core/cursor.ts';
import { mfaResetMessage } from '../../mail/templates.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import { deleteAllFactors } from '../../store/factors.ts';
import { findOrgUser } from '../../store/users.ts';
import { bumpUserSessionEpoch } from '../../store/users.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { userTransaction } from '../../store/transaction.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { notifyUser } from '../notify.ts';
import { checkStepUp, type StepUpResult } from './step-up.ts';
import type { VerificationInput } from './verification.ts';

/**
 * Reset MFA, for a user who lost their authenticator. Deletes the user's factors (pending ones
 * too) and recovery codes and ends all their sessions, in one transaction with the admin's step-up;
 * then emails the user. Under "required" they enroll again at their next sign-in.
 */
export async function resetUserMfa(
  deps: ServiceDeps,
  context: SessionContext,
  input: { userId: string; verification?: VerificationInput },
  origin: RequestOrigin,
): Promise<
  | Result<true>
  | Failure<'not_found' | 'sso_user' | 'own_account'>
  | Exclude<StepUpResult, { ok: true }>
> {
  if (!isUuid(input.userId)) return fail('not_found');
  const now = deps.clock.now();
  const result = await userTransaction(deps.db, [context.user.id, input.userId], async (tx) => {
    // Another org's user is simply not found: ids never cross orgs.
    const target = await findOrgUser(tx, context.org.id, input.userId);
    if (!target) return fail('not_found');
    if (target.sso) return fail('sso_user');
    if (target.id === context.user.id) return fail('own_account');
    const stepUp = await checkStepUp(
      deps,
      tx,
      context,
      'reset_user_mfa',
      input.verification,
      origin,
    );
    if (!stepUp.ok) return stepUp;
    const removed = await deleteAllFactors(tx, target.id);
    await bumpUserSessionEpoch(tx, target.id);
    await appendAuditEvent(tx, {
      type: 'mfa.reset',
      orgId: context.org.id,
      actorUserId: context.user.id,
      targetUserId: target.id,
      ...origin,
      details: removed,
      at: now,
    });
    return ok(target);
  });
  if (!result.ok) return result;
  notifyUser(deps, result.value.email, mfaResetMessage(context.org.name));
  return ok(true);
}

import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import { isUuid } from '../../core/cursor.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import { deleteAllFactors } from '../../store/factors.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { findSsoConnection } from '../../store/sso.ts';
import { userTransaction } from '../../store/transaction.ts';
import { bumpUserSessionEpoch, convertUserToSso, findOrgUser } from '../../store/users.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { checkStepUp, type StepUpFailure } from '../mfa/step-up.ts';
import type { VerificationInput } from '../mfa/verification.ts';

/**
 * The explicit, audited way to link a password account to the org's identity provider (a first
 * SSO sign-in never does it silently). The password, factors and recovery codes go, and every
 * session of the user ends.
 */
export async function convertToSso(
  deps: ServiceDeps,
  context: SessionContext,
  input: { userId: string; verification?: VerificationInput },
  origin: RequestOrigin,
): Promise<
  | Result<true>
  | Failure<'not_found' | 'sso_user' | 'own_account' | 'sso_not_configured'>
  | StepUpFailure
> {
  if (!isUuid(input.userId)) return fail('not_found');
  return userTransaction(deps.db, [context.user.id, input.userId], async (tx) => {
    const target = await findOrgUser(tx, context.org.id, input.userId);
    if (!target) return fail('not_found');
    if (target.sso) return fail('sso_user');
    if (target.id === context.user.id) return fail('own_account');
    if (!(await findSsoConnection(tx, context.org.id))) return fail('sso_not_configured');
    const stepUp = await checkStepUp(
      deps,
      tx,
      context,
      'convert_user_to_sso',
      input.verification,
      origin,
    );
    if (!stepUp.ok) return stepUp;
    await deleteAllFactors(tx, target.id);
    await convertUserToSso(tx, target.id);
    await bumpUserSessionEpoch(tx, target.id);
    await appendAuditEvent(tx, {
      type: 'user.converted_to_sso',
      orgId: context.org.id,
      actorUserId: context.user.id,
      targetUserId: target.id,
      ...origin,
      at: deps.clock.now(),
    });
    return ok(true as const);
  });
}

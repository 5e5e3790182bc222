import { fail, ok, type Failure, type Result } from '../core/errors.ts';
import { appendAuditEvent } from '../store/audit.ts';
import { updateAllowedMethods } from '../store/org-mfa.ts';
import type { SessionContext } from '../store/sessions.ts';
import type { RequestOrigin, ServiceDeps } from './deps.ts';
import { checkStepUp, type StepUpResult } from './step-up.ts';
import type { VerificationInput } from './verification.ts';

export type AllowedMethods = { totp: boolean; email: boolean };

/**
 * Seed 004, "Enable Verification Methods". A step-up when the admin has MFA, checked in the same
 * transaction. At least one method stays on while the policy is not disabled. Turning a method
 * off only stops offering it: users' factors of that method are kept, so turning it back on
 * restores them.
 */
export async function setAllowedMethods(
  deps: ServiceDeps,
  context: SessionContext,
  input: AllowedMethods & { verification?: VerificationInput },
  origin: RequestOrigin,
): Promise<
  Result<AllowedMethods> | Failure<'no_method_allowed'> | Exclude<StepUpResult, { ok: true }>
> {
  const { org } = context;
  if (org.mfa_policy !== 'disabled' && !input.totp && !input.email)
    return fail('no_method_allowed');
  return deps.db.transaction().execute(async (tx) => {
    const stepUp = await checkStepUp(deps, tx, context, input.verification, origin);
    if (!stepUp.ok) return stepUp;
    const updated = await updateAllowedMethods(tx, org.id, input);
    // The policy was turned on meanwhile and the database refused an org with no method.
    if (!updated) return fail('no_method_allowed');
    const from = { totp: org.totp_allowed, email: org.email_allowed };
    await appendAuditEvent(tx, {
      type: 'org.mfa_methods_changed',
      orgId: org.id,
      actorUserId: context.user.id,
      ...origin,
      details: { from, to: { totp: input.totp, email: input.email } },
      at: deps.clock.now(),
    });
    return ok({ totp: updated.totp_allowed, email: updated.email_allowed });
  });
}

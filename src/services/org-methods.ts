import { fail, ok, type Failure, type Result } from '../core/errors.ts';
import { appendAuditEvent } from '../store/audit.ts';
import { allowedMethods } from '../core/mfa-policy.ts';
import { countUsersLeftWithoutMethod, updateAllowedMethods } from '../store/org-mfa.ts';
import type { SessionContext } from '../store/sessions.ts';
import { userTransaction } from '../store/transaction.ts';
import type { RequestOrigin, ServiceDeps } from './deps.ts';
import { checkStepUp, type StepUpResult } from './step-up.ts';
import type { VerificationInput } from './verification.ts';

export type AllowedMethods = { totp: boolean; email: boolean };

export type MethodsStrandUsers = Failure<'methods_strand_users'> & { strandedUsers: number };

/**
 * Seed 004, "Enable Verification Methods". A step-up when the admin has MFA, checked in the same
 * transaction. At least one method stays on while the policy is not disabled. Turning a method
 * off only stops offering it: users' factors of that method are kept, so turning it back on
 * restores them. Users it leaves with nothing to verify with cannot sign in until an admin
 * resets their MFA, so the admin first learns how many and confirms that number.
 */
export async function setAllowedMethods(
  deps: ServiceDeps,
  context: SessionContext,
  input: AllowedMethods & { verification?: VerificationInput; confirmStrandedUsers?: number },
  origin: RequestOrigin,
): Promise<
  | Result<AllowedMethods>
  | Failure<'no_method_allowed'>
  | MethodsStrandUsers
  | Exclude<StepUpResult, { ok: true }>
> {
  const { org } = context;
  if (org.mfa_policy !== 'disabled' && !input.totp && !input.email)
    return fail('no_method_allowed');
  return userTransaction(deps.db, [context.user.id], async (tx) => {
    const turnsOff = (org.totp_allowed && !input.totp) || (org.email_allowed && !input.email);
    if (turnsOff) {
      const stillAllowed = allowedMethods({
        policy: 'enabled',
        totpAllowed: input.totp,
        emailAllowed: input.email,
      });
      const strandedUsers = await countUsersLeftWithoutMethod(tx, org.id, stillAllowed);
      // Checked before the step-up, so that learning the number spends no code.
      if (strandedUsers > 0 && input.confirmStrandedUsers !== strandedUsers) {
        return { ok: false as const, error: 'methods_strand_users' as const, strandedUsers };
      }
    }
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

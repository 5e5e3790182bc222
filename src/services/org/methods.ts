import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import { flaggedMethods, methodFlags, type MethodFlags } from '../../core/factor-methods.ts';
import { countUsersLeftWithoutMethod, updateAllowedMethods } from '../../store/org-mfa.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { userTransaction } from '../../store/transaction.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { checkStepUp, type StepUpResult } from '../mfa/step-up.ts';
import type { VerificationInput } from '../mfa/verification.ts';

export type AllowedMethods = MethodFlags;

export type MethodsStrandUsers = Failure<'methods_strand_users'> & { strandedUsers: number };

/**
 * The verification methods the org allows. A step-up when the admin has MFA, checked in the same
 * transaction. At least one method stays on while the policy is not disabled. Turning a method
 * off only stops offering it: users' factors of that method are kept, so turning it back on
 * restores them. Users it leaves with nothing to verify with cannot sign in until an admin
 * resets their MFA, so the admin first learns how many and confirms that number.
 */
export async function setAllowedMethods(
  deps: ServiceDeps,
  context: SessionContext,
  input: {
    methods: AllowedMethods;
    verification?: VerificationInput;
    confirmStrandedUsers?: number;
  },
  origin: RequestOrigin,
): Promise<
  | Result<AllowedMethods>
  | Failure<'no_method_allowed'>
  | MethodsStrandUsers
  | Exclude<StepUpResult, { ok: true }>
> {
  const { org } = context;
  const stillAllowed = flaggedMethods(input.methods);
  if (org.mfa_policy !== 'disabled' && stillAllowed.length === 0) return fail('no_method_allowed');
  return userTransaction(deps.db, [context.user.id], async (tx) => {
    const turnsOff = org.mfa_methods.some((method) => !stillAllowed.includes(method));
    if (turnsOff) {
      const strandedUsers = await countUsersLeftWithoutMethod(tx, org.id, stillAllowed);
      // Checked before the step-up, so that learning the number spends no code.
      if (strandedUsers > 0 && input.confirmStrandedUsers !== strandedUsers) {
        return { ok: false as const, error: 'methods_strand_users' as const, strandedUsers };
      }
    }
    const stepUp = await checkStepUp(
      deps,
      tx,
      context,
      'change_allowed_methods',
      input.verification,
      origin,
    );
    if (!stepUp.ok) return stepUp;
    const updated = await updateAllowedMethods(tx, org.id, stillAllowed);
    // The policy was turned on meanwhile and the database refused an org with no method.
    if (!updated) return fail('no_method_allowed');
    await appendAuditEvent(tx, {
      type: 'org.mfa_methods_changed',
      orgId: org.id,
      actorUserId: context.user.id,
      ...origin,
      details: { from: methodFlags(org.mfa_methods), to: methodFlags(stillAllowed) },
      at: deps.clock.now(),
    });
    return ok(methodFlags(updated.mfa_methods));
  });
}

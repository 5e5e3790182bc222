import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import { methodFlags, type MethodFlags } from '../../core/factor-methods.ts';
import { isStrengthening, isWeakening, type MfaPolicy } from '../../core/mfa-policy.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import { countUsersAndEnrolled, updateMfaPolicy } from '../../store/org-mfa.ts';
import { bumpOrgSessionEpoch } from '../../store/orgs.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { rotateSession, type SignedIn } from '../session/auth.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { userMfaOf } from '../mfa/state.ts';

export type OrgMfaSummary = {
  policy: MfaPolicy;
  methods: MethodFlags;
  usersTotal: number;
  usersEnrolled: number;
};

export async function describeOrgMfa(
  deps: ServiceDeps,
  context: SessionContext,
): Promise<OrgMfaSummary> {
  const { org } = context;
  const counts = await countUsersAndEnrolled(deps.db, org.id);
  return {
    policy: org.mfa_policy,
    methods: methodFlags(org.mfa_methods),
    usersTotal: counts.total,
    usersEnrolled: counts.enrolled,
  };
}

export type SessionsChoice = 'invalidate' | 'keep';

/** session: the acting admin's new session, or null when nothing changed. */
export type PolicyChanged = { policy: MfaPolicy; session: SignedIn | null };

/**
 * Strengthens the org's policy (disabled → enabled/required, enabled → required). With
 * `invalidate`, every session of the org ends in the same transaction, by one row update. The
 * acting admin keeps working in a new session, which must first enroll if the admin has no factor
 * (whoever turns MFA on for the org is held to it too).
 */
export async function strengthenMfaPolicy(
  deps: ServiceDeps,
  context: SessionContext,
  input: { policy: MfaPolicy; sessions: SessionsChoice },
  origin: RequestOrigin,
): Promise<
  | Result<PolicyChanged>
  | Failure<'email_confirmation_required' | 'no_method_allowed' | 'policy_changed'>
> {
  const from = context.org.mfa_policy;
  if (isWeakening(from, input.policy)) return fail('email_confirmation_required');
  if (context.org.mfa_methods.length === 0) return fail('no_method_allowed');
  // Setting the policy it already has changes nothing, sessions included.
  if (!isStrengthening(from, input.policy)) return ok({ policy: from, session: null });
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const org = await updateMfaPolicy(tx, context.org.id, from, input.policy);
    // Another admin changed the policy or the methods meanwhile: nothing is applied.
    if (!org) return fail('policy_changed');
    if (input.sessions === 'invalidate') org.session_epoch = await bumpOrgSessionEpoch(tx, org.id);
    await appendAuditEvent(tx, {
      type: 'org.mfa_policy_changed',
      orgId: org.id,
      actorUserId: context.user.id,
      ...origin,
      details: { from, to: input.policy, sessions: input.sessions },
      at: now,
    });
    const enrolled = (await userMfaOf(tx, context.user)).activeMethods.length > 0;
    const session = await rotateSession(
      deps,
      tx,
      { ...context, org },
      { status: enrolled ? 'authenticated' : 'enrollment_required', aal: context.session.aal },
      origin,
    );
    return ok({ policy: org.mfa_policy, session });
  });
}

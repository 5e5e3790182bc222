import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import { isWeakening, type MfaPolicy } from '../../core/mfa-policy.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import { updateMfaPolicy } from '../../store/org-mfa.ts';
import type { SessionContext } from '../../store/sessions.ts';
import type { RateLimited } from '../session/auth.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { redeemEmailCode, sendEmailCode, type SentCode } from '../mfa/email-codes.ts';

/**
 * Weakening the policy (to disabled, or required → enabled) emails a 6-digit code to the acting
 * admin, valid 5 minutes, bound to that admin, org and request. Asking again voids the earlier
 * code; closing the dialog simply lets the code expire.
 */
export async function requestPolicyWeakening(
  deps: ServiceDeps,
  context: SessionContext,
  policy: MfaPolicy,
  origin: RequestOrigin,
): Promise<
  | Result<SentCode>
  | Failure<'mfa_not_enabled' | 'not_a_weakening' | 'email_unavailable'>
  | RateLimited
> {
  const from = context.org.mfa_policy;
  if (from === 'disabled') return fail('mfa_not_enabled');
  if (!isWeakening(from, policy)) return fail('not_a_weakening');
  const sent = await sendEmailCode(deps, context, {
    purpose: 'org_policy',
    sessionTokenHash: null,
    payload: { from, to: policy },
  });
  if (sent.ok) {
    await appendAuditEvent(deps.db, {
      type: 'org.mfa_policy_weakening_requested',
      orgId: context.org.id,
      actorUserId: context.user.id,
      ...origin,
      details: { from, to: policy },
      at: deps.clock.now(),
    });
  }
  return sent;
}

/**
 * Applies the weakening once the emailed code is right. The code is consumed and the policy
 * changed in one transaction; the policy changes only if it is still the one the request was made
 * from, so a request cannot be replayed after another admin changed the policy meanwhile.
 */
export async function confirmPolicyWeakening(
  deps: ServiceDeps,
  context: SessionContext,
  input: { requestId: string; code: string },
  origin: RequestOrigin,
): Promise<Result<MfaPolicy, 'invalid_code'> | Failure<'policy_changed'>> {
  const now = deps.clock.now();
  return deps.db.transaction().execute(async (tx) => {
    const redeemed = await redeemEmailCode(
      deps,
      tx,
      input.requestId,
      { userId: context.user.id, orgId: context.org.id, purpose: 'org_policy' },
      input.code,
    );
    if (!redeemed.ok) return redeemed;
    const from = redeemed.value.from as MfaPolicy;
    const to = redeemed.value.to as MfaPolicy;
    const org = await updateMfaPolicy(tx, context.org.id, from, to);
    if (!org) return fail('policy_changed');
    await appendAuditEvent(tx, {
      type: 'org.mfa_policy_changed',
      orgId: org.id,
      actorUserId: context.user.id,
      ...origin,
      details: { from, to, confirmed_by: 'email_code' },
      at: now,
    });
    return ok(to);
  });
}

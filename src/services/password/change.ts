import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import { PASSWORD_LOCK_SECONDS, PASSWORD_MAX_FAILURES } from '../../core/limits.ts';
import { normalizePassword, parseNewPassword } from '../../core/validation.ts';
import { passwordChangedMessage } from '../../mail/templates.ts';
import { clearAttempts, reserveAttempt } from '../../store/attempt-counters.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { userTransaction } from '../../store/transaction.ts';
import { bumpUserSessionEpoch, updatePasswordHash } from '../../store/users.ts';
import {
  passwordCounterKey,
  rotateSession,
  type RateLimited,
  type SignedIn,
} from '../session/auth.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { notifyUser } from '../notify.ts';
import { checkStepUp, type StepUpFailure } from '../mfa/step-up.ts';
import type { VerificationInput } from '../mfa/verification.ts';

export type PasswordChange = {
  currentPassword: string;
  newPassword: string;
  verification?: VerificationInput;
};

/**
 * Changing a password takes the current one and, when MFA applies to the user, a verification
 * (step-up) in the same request. A wrong current password counts toward the account's sign-in
 * failures (a stolen session must not become a password oracle). Then the step-up, the new hash and
 * the end of every other session of the user commit together; this session goes on with a new
 * token.
 */
export async function changePassword(
  deps: ServiceDeps,
  context: SessionContext,
  input: PasswordChange,
  origin: RequestOrigin,
): Promise<
  | Result<SignedIn>
  | Failure<'sso_required' | 'invalid_credentials' | 'weak_password' | 'password_too_long'>
  | RateLimited
  | StepUpFailure
> {
  const { user, org } = context;
  if (user.password_hash === null) return fail('sso_required');
  const newPassword = parseNewPassword(input.newPassword);
  if (!newPassword.ok) return newPassword;
  const now = deps.clock.now();
  const counterKey = passwordCounterKey(org.slug, user.email);
  const reservation = await reserveAttempt(
    deps.db,
    counterKey,
    now,
    PASSWORD_MAX_FAILURES,
    PASSWORD_LOCK_SECONDS,
  );
  if (!reservation.allowed) {
    return { ok: false, error: 'rate_limited', retryAfterSeconds: reservation.retryAfterSeconds };
  }
  const current = normalizePassword(input.currentPassword);
  if (!(await deps.passwords.verify(user.password_hash, current))) {
    await appendAuditEvent(deps.db, {
      type: 'password.change_failed',
      orgId: org.id,
      actorUserId: user.id,
      targetUserId: user.id,
      ...origin,
      details: { reason: 'wrong_current_password', consecutive_failures: reservation.failures },
      at: now,
    });
    return fail('invalid_credentials');
  }
  await clearAttempts(deps.db, counterKey);
  const newHash = await deps.passwords.hash(newPassword.value);

  const changed = await userTransaction(deps.db, [user.id], async (tx) => {
    const stepUp = await checkStepUp(
      deps,
      tx,
      context,
      'change_password',
      input.verification,
      origin,
    );
    if (!stepUp.ok) return stepUp;
    await updatePasswordHash(tx, user.id, newHash);
    // Every session of the user ends; this one goes on under a new token and the new epoch.
    const epoch = await bumpUserSessionEpoch(tx, user.id);
    const continued = { ...context, user: { ...user, session_epoch: epoch } };
    const session = await rotateSession(
      deps,
      tx,
      continued,
      { status: context.session.status, aal: context.session.aal },
      origin,
    );
    await appendAuditEvent(tx, {
      type: 'password.changed',
      orgId: org.id,
      actorUserId: user.id,
      targetUserId: user.id,
      ...origin,
      details: { verified_with: stepUp.value },
      at: now,
    });
    return ok(session);
  });
  if (changed.ok) notifyUser(deps, user.email, passwordChangedMessage(org.name));
  return changed;
}

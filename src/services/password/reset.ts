import { fail, ok, type Result } from '../../core/errors.ts';
import {
  PASSWORD_RESET_RESEND_SECONDS,
  PASSWORD_RESET_SECONDS,
  PASSWORD_RESET_TOKEN_BYTES,
} from '../../core/limits.ts';
import { generateToken, hashToken } from '../../core/tokens.ts';
import { emailKey, parseNewPassword } from '../../core/validation.ts';
import { passwordChangedMessage, passwordResetMessage } from '../../mail/templates.ts';
import { clearAttempts } from '../../store/attempt-counters.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import { findOrgById } from '../../store/orgs.ts';
import {
  consumeResetToken,
  insertResetToken,
  lastResetRequestedAt,
} from '../../store/password-reset-tokens.ts';
import {
  bumpUserSessionEpoch,
  findUserById,
  findUserForLogin,
  updatePasswordHash,
} from '../../store/users.ts';
import { passwordCounterKey } from '../session/auth.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { notifyUser } from '../notify.ts';

/**
 * "Forgot password". The caller answers 202 without waiting for this, so neither the answer nor
 * its timing tells whether the account exists.
 * SSO users get nothing (their identity provider owns their password); at most one link a minute
 * per account. The token travels in the link's fragment, which browsers never send to servers, so
 * no access log can hold it; only its hash is stored.
 */
export async function requestPasswordReset(
  deps: ServiceDeps,
  input: { org: string; email: string },
  origin: RequestOrigin,
): Promise<void> {
  const now = deps.clock.now();
  const found = await findUserForLogin(
    deps.db,
    input.org.trim().toLowerCase(),
    emailKey(input.email),
  );
  if (!found || found.user.password_hash === null) return;
  const { user, org } = found;
  const last = await lastResetRequestedAt(deps.db, user.id);
  if (last && now.getTime() - last.getTime() < PASSWORD_RESET_RESEND_SECONDS * 1000) return;

  const token = generateToken(deps.randomBytes, PASSWORD_RESET_TOKEN_BYTES);
  await deps.db.transaction().execute(async (tx) => {
    await insertResetToken(tx, {
      tokenHash: hashToken(token),
      userId: user.id,
      now,
      expiresAt: new Date(now.getTime() + PASSWORD_RESET_SECONDS * 1000),
    });
    await appendAuditEvent(tx, {
      type: 'password.reset_requested',
      orgId: org.id,
      targetUserId: user.id,
      ...origin,
      at: now,
    });
  });
  const link = new URL(`/reset-password#token=${token}`, deps.publicUrl).toString();
  notifyUser(deps, user.email, passwordResetMessage(org.name, link, PASSWORD_RESET_SECONDS / 60));
}

/**
 * Sets the new password from a reset link and ends every session of the user. It signs nobody
 * in: the next sign-in asks for the password and then, as always, the second factor.
 */
export async function completePasswordReset(
  deps: ServiceDeps,
  input: { token: string; newPassword: string },
  origin: RequestOrigin,
): Promise<Result<true, 'invalid_token' | 'weak_password' | 'password_too_long'>> {
  const password = parseNewPassword(input.newPassword);
  if (!password.ok) return password;
  const newHash = await deps.passwords.hash(password.value);
  const now = deps.clock.now();
  const reset = await deps.db.transaction().execute(async (tx) => {
    const userId = await consumeResetToken(tx, hashToken(input.token), now);
    const user = userId ? await findUserById(tx, userId) : undefined;
    const org = user ? await findOrgById(tx, user.org_id) : undefined;
    if (!user || !org || user.password_hash === null) return fail('invalid_token');
    await updatePasswordHash(tx, user.id, newHash);
    await bumpUserSessionEpoch(tx, user.id);
    // The account's owner just proved their inbox: a guessing lock on it no longer protects anyone.
    await clearAttempts(tx, passwordCounterKey(org.slug, user.email));
    await appendAuditEvent(tx, {
      type: 'password.reset',
      orgId: org.id,
      actorUserId: user.id,
      targetUserId: user.id,
      ...origin,
      at: now,
    });
    return ok({ user, org });
  });
  if (!reset.ok) return reset;
  notifyUser(deps, reset.value.user.email, passwordChangedMessage(reset.value.org.name));
  return ok(true);
}

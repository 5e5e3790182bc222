import type { Kysely } from 'kysely';
import { fail, ok, type Failure, type Result } from '../core/errors.ts';
import { MFA_LOCK_SECONDS, MFA_MAX_FAILURES } from '../core/limits.ts';
import { offeredMethods, type UserMfa, type VerificationMethod } from '../core/mfa-policy.ts';
import { normalizeRecoveryCode } from '../core/recovery-codes.ts';
import { decryptSecret, hmacCode } from '../core/secret-box.ts';
import { matchTotpStep } from '../core/totp.ts';
import { clearAttempts, reserveAttempt } from '../store/attempt-counters.ts';
import { recoveryCodeUsedMessage } from '../mail/templates.ts';
import { appendAuditEvent } from '../store/audit.ts';
import { notifyUser } from './notify.ts';
import { consumeTotpStep } from '../store/factors.ts';
import { consumeRecoveryCode } from '../store/recovery-codes.ts';
import { afterCommit, assertUserLocked } from '../store/transaction.ts';
import type { Database, Factor } from '../store/schema.ts';
import type { SessionContext } from '../store/sessions.ts';
import { findOpenChallengeId } from '../store/email-challenges.ts';
import { redeemEmailCode } from './email-codes.ts';
import type { RequestOrigin, ServiceDeps } from './deps.ts';
import { activeFactorsOf, orgMfaOf, userMfaOf } from './mfa-state.ts';

/** 'sso' is the SSO user's step-up by re-authentication (services/step-up.ts), never a code. */
export type VerificationInput = { method: VerificationMethod | 'sso'; code: string };
export type VerificationPurpose = 'login' | 'step_up';
export type TooManyAttempts = Failure<'too_many_attempts'> & { retryAfterSeconds: number };
export type VerificationResult = Result<VerificationMethod, 'invalid_code'> | TooManyAttempts;
/** A verification that passed, with the user's factors as they are after it. */
export type Verified = { method: VerificationMethod; userMfa: UserMfa };

export function totpSecretAad(userId: string): string {
  return `totp:${userId}`;
}

/**
 * Checks a second factor (TOTP, emailed code, recovery code) for login or step-up.
 * The attempt is counted before the code is looked at, per user across sessions, methods and
 * addresses, so that parallel guesses cannot exceed MFA_MAX_FAILURES; a success resets the count.
 * Run it in the transaction of the action it guards, opened by userTransaction with the user's row
 * locked: the code is spent only if the action commits.
 */
export async function verifySecondFactor(
  deps: ServiceDeps,
  db: Kysely<Database>,
  subject: SessionContext,
  input: VerificationInput,
  context: { origin: RequestOrigin; purpose: VerificationPurpose },
): Promise<VerificationResult> {
  const verified = await verifyFactor(deps, db, subject, input, context);
  return verified.ok ? ok(verified.value.method) : verified;
}

/** verifySecondFactor, also answering the user's factors after the verification. */
export async function verifyFactor(
  deps: ServiceDeps,
  db: Kysely<Database>,
  subject: SessionContext,
  input: VerificationInput,
  context: { origin: RequestOrigin; purpose: VerificationPurpose },
): Promise<Result<Verified, 'invalid_code'> | TooManyAttempts> {
  const { user, org } = subject;
  assertUserLocked(db, user.id);
  const now = deps.clock.now();
  const counterKey = `mfa:${user.id}`;
  const reservation = await reserveAttempt(db, counterKey, now, MFA_MAX_FAILURES, MFA_LOCK_SECONDS);
  const audit = (type: string, details: Record<string, unknown>) =>
    appendAuditEvent(db, {
      type,
      orgId: org.id,
      actorUserId: user.id,
      targetUserId: user.id,
      ...context.origin,
      details: { purpose: context.purpose, ...details },
      at: now,
    });
  if (!reservation.allowed) {
    return {
      ok: false,
      error: 'too_many_attempts',
      retryAfterSeconds: reservation.retryAfterSeconds,
    };
  }

  // One round trip for what the check needs: the methods on offer and the TOTP secret.
  const { factors, userMfa } = await activeFactorsOf(db, user);
  const offered = offeredMethods(orgMfaOf(org), userMfa);
  const method = input.method;
  const totpFactor = factors.find((factor) => factor.type === 'totp');
  const accepted =
    method !== 'sso' &&
    offered.includes(method) &&
    (await checkCode(
      deps,
      db,
      subject,
      { method, code: input.code, totpFactor },
      { now, purpose: context.purpose },
    ));
  if (!accepted) {
    await audit('mfa.verification_failed', {
      method: input.method,
      consecutive_failures: reservation.failures,
    });
    if (reservation.failures >= MFA_MAX_FAILURES) {
      await audit('mfa.locked', { lock_seconds: MFA_LOCK_SECONDS });
    }
    return fail('invalid_code');
  }
  await clearAttempts(db, counterKey);
  await audit('mfa.verified', { method });
  if (method === 'recovery_code') {
    // Counted again, not decremented: another code of the same user may have been spent meanwhile.
    const after = await userMfaOf(db, user);
    await audit('mfa.recovery_code_used', { remaining: after.recoveryCodesRemaining });
    const message = recoveryCodeUsedMessage(org.name, after.recoveryCodesRemaining);
    afterCommit(db, () => notifyUser(deps, user.email, message));
    return ok({ method, userMfa: after });
  }
  // A TOTP step or an emailed code changes no method and no recovery code.
  return ok({ method: method as VerificationMethod, userMfa });
}

async function checkCode(
  deps: ServiceDeps,
  db: Kysely<Database>,
  subject: SessionContext,
  input: { method: VerificationMethod; code: string; totpFactor: Factor | undefined },
  context: { now: Date; purpose: VerificationPurpose },
): Promise<boolean> {
  const { user, org, session } = subject;
  const { now } = context;
  if (input.method === 'totp') {
    const factor = input.totpFactor;
    if (!factor?.secret_ciphertext) return false;
    const secret = decryptSecret(
      deps.keys.encryption,
      factor.secret_ciphertext,
      totpSecretAad(user.id),
    );
    const lastUsed = factor.last_used_step === null ? null : BigInt(factor.last_used_step);
    const step = matchTotpStep(secret, input.code, now, lastUsed);
    return step !== null && (await consumeTotpStep(db, factor.id, step, now));
  }
  if (input.method === 'recovery_code') {
    const code = normalizeRecoveryCode(input.code);
    if (code === null) return false;
    return consumeRecoveryCode(db, user.id, hmacCode(deps.keys.codeHmac, code), now);
  }
  // An emailed code answers only the challenge sent for this session and this purpose.
  const binding = { userId: user.id, orgId: org.id, purpose: context.purpose };
  const challengeId = await findOpenChallengeId(db, binding, session.token_hash, now);
  if (!challengeId) return false;
  const redeemed = await redeemEmailCode(
    deps,
    db,
    challengeId,
    { ...binding, sessionTokenHash: session.token_hash },
    input.code,
  );
  return redeemed.ok;
}

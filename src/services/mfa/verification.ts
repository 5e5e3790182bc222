import type { Kysely } from 'kysely';
import type { AuditEventType } from '../../core/audit-events.ts';
import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import { MFA_LOCK_SECONDS, MFA_MAX_FAILURES } from '../../core/limits.ts';
import { offeredMethods, type UserMfa, type VerificationMethod } from '../../core/mfa-policy.ts';
import type { SensitiveActionName } from '../../core/sensitive-actions.ts';
import { clearAttempts, reserveAttempt } from '../../store/attempt-counters.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import { assertUserLocked } from '../../store/transaction.ts';
import type { Database } from '../../store/schema.ts';
import type { SessionContext } from '../../store/sessions.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import type { FactorCheck, VerificationPurpose } from './factor.ts';
import { strategyFor, type AnswerOf } from './registry.ts';
import { activeFactorsOf, orgMfaOf } from './state.ts';

export type { VerificationPurpose };

/**
 * A verification: the method's answer, keyed by `method` (`{method: "totp", code}` for the methods
 * that answer with a code). 'sso' is the SSO user's step-up by re-authentication
 * (services/mfa/step-up.ts), never a code.
 */
export type VerificationInput =
  | { [M in VerificationMethod]: { method: M } & AnswerOf<M> }[VerificationMethod]
  | { method: 'sso'; code: string };
export type TooManyAttempts = Failure<'too_many_attempts'> & { retryAfterSeconds: number };
export type VerificationResult = Result<VerificationMethod, 'invalid_code'> | TooManyAttempts;
/** A verification that passed, with the user's factors as they are after it. */
export type Verified = { method: VerificationMethod; userMfa: UserMfa };
/** What a verification is for: sign-in, or a step-up for one sensitive action. */
export type VerificationContext = {
  origin: RequestOrigin;
  purpose: VerificationPurpose;
  action?: SensitiveActionName;
};

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
  context: VerificationContext,
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
  context: VerificationContext,
): Promise<Result<Verified, 'invalid_code'> | TooManyAttempts> {
  const { user, org } = subject;
  assertUserLocked(db, user.id);
  const now = deps.clock.now();
  const counterKey = `mfa:${user.id}`;
  const reservation = await reserveAttempt(db, counterKey, now, MFA_MAX_FAILURES, MFA_LOCK_SECONDS);
  const audit = (type: AuditEventType, details: Record<string, unknown>) =>
    appendAuditEvent(db, {
      type,
      orgId: org.id,
      actorUserId: user.id,
      targetUserId: user.id,
      ...context.origin,
      details: {
        purpose: context.purpose,
        ...(context.action ? { verified_for: context.action } : {}),
        ...details,
      },
      at: now,
    });
  if (!reservation.allowed) {
    return {
      ok: false,
      error: 'too_many_attempts',
      retryAfterSeconds: reservation.retryAfterSeconds,
    };
  }

  // One round trip for what the check needs: the methods on offer and the factors' secrets.
  const { factors, userMfa } = await activeFactorsOf(db, user);
  const offered = offeredMethods(orgMfaOf(org), userMfa);
  const check: FactorCheck = {
    deps,
    tx: db,
    subject,
    held: { factors, recoveryCodesRemaining: userMfa.recoveryCodesRemaining },
    now,
    purpose: context.purpose,
    audit,
  };
  const accepted =
    input.method !== 'sso' &&
    offered.includes(input.method) &&
    (await strategyFor(input.method).verify(check, input));
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
  const { method } = input;
  await clearAttempts(db, counterKey);
  await audit('mfa.verified', { method });
  // Only a method whose use changes what the user holds (a recovery code) has anything to add.
  const strategy = strategyFor(method);
  const after = strategy.afterVerified ? await strategy.afterVerified(check, userMfa) : userMfa;
  return ok({ method, userMfa: after });
}

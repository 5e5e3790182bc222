import type { Kysely } from 'kysely';
import type { AuditEventType } from '../../core/audit-events.ts';
import type { ErrorCode, Failure, Result } from '../../core/errors.ts';
import type { UserMfa } from '../../core/mfa-policy.ts';
import type { Database, Factor } from '../../store/schema.ts';
import type { SessionContext } from '../../store/sessions.ts';
import type { RateLimited } from '../session/auth.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import type { EnrollmentCompleted } from './enrollment.ts';
import type { VerificationInput } from './verification.ts';

/**
 * One verification method: TOTP, email, recovery codes, and later passkeys. Each lives in its own
 * folder beside this file as a module that implements this interface (its `strategy.ts`), and is
 * listed once in registry.ts; verification, challenges and enrollment look the method up there
 * instead of branching on its name.
 */
export interface FactorStrategy<Answer> {
  /**
   * Whether a user may hold several active factors of the method, each with its label (passkeys).
   * The database holds TOTP and email to one per user (migration 0010): a method that says false
   * here must be in that index's list.
   */
  readonly multiplePerUser: boolean;

  /** How many of what the user holds can answer for this method (factors, or codes left). */
  countActive(held: HeldFactors): number;

  /**
   * Checks an answer and spends what proved it (a TOTP step, an emailed code, a recovery code),
   * inside the verification's transaction: the proof is spent only if the action commits. A
   * wrong answer is `false`, never an error.
   */
  verify(check: FactorCheck, answer: Answer): Promise<boolean>;

  /**
   * Runs in the same transaction once an answer is accepted; answers the user's MFA state as it
   * is after it (a recovery code spent changes what is left).
   */
  afterVerified?(check: FactorCheck, userMfa: UserMfa): Promise<UserMfa>;

  /**
   * Sends the user what they will answer with (an emailed code), for sign-in or a step-up. A
   * method whose answer needs nothing sent (an authenticator app) has none.
   */
  challenge?(
    deps: ServiceDeps,
    context: SessionContext,
    purpose: VerificationPurpose,
  ): Promise<Result<ChallengeSent> | Failure<'email_unavailable'> | RateLimited>;

  /**
   * Starts adding a factor of the method (a TOTP secret, an emailed code); the user's step-up, when
   * one is needed, rides along. Recovery codes have no enrollment: a set comes with every method.
   */
  startEnrollment?(
    deps: ServiceDeps,
    context: SessionContext,
    verification: VerificationInput | undefined,
    origin: RequestOrigin,
  ): Promise<Result<unknown> | Failure<ErrorCode>>;

  /** Activates the factor started above once the user proves it with an answer of the method. */
  confirmEnrollment?(
    deps: ServiceDeps,
    context: SessionContext,
    proof: Answer,
    origin: RequestOrigin,
  ): Promise<Result<EnrollmentCompleted> | Failure<ErrorCode>>;
}

export type VerificationPurpose = 'login' | 'step_up';

/** What the user holds: active factors (secrets included) and unused recovery codes. */
export type HeldFactors = { factors: readonly Factor[]; recoveryCodesRemaining: number };

/** What a strategy gets to check an answer, in a transaction that locked the user's row. */
export type FactorCheck = {
  deps: ServiceDeps;
  tx: Kysely<Database>;
  subject: SessionContext;
  held: HeldFactors;
  now: Date;
  purpose: VerificationPurpose;
  /** Appends an audit event of this verification (user, org, origin and purpose filled in). */
  audit(type: AuditEventType, details: Record<string, unknown>): Promise<void>;
};

/** A challenge on its way to the user. */
export type ChallengeSent = { expiresAt: Date };

/** The answer of every method that answers with a code the user types. */
export type CodeAnswer = { code: string };

import type { Kysely } from 'kysely';
import { fail, ok, type ErrorCode, type Failure, type Result } from '../../core/errors.ts';
import {
  EMAIL_CODE_MAX_ATTEMPTS,
  EMAIL_CODE_SECONDS,
  generateEmailCode,
  hourlyWaitSeconds,
  normalizeEmailCode,
  resendWaitSeconds,
} from '../../core/email-codes.ts';
import { hmacCode } from '../../core/secret-box.ts';
import { constantTimeEqual } from '../../core/tokens.ts';
import { codeMessage, render } from '../../mail/templates.ts';
import {
  challengesSentSince,
  consumeChallenge,
  insertChallenge,
  lastChallengeSentAt,
  takeChallengeAttempt,
  voidOtherChallenges,
  type ChallengeBinding,
} from '../../store/email-challenges.ts';
import type { Database, Org, User } from '../../store/schema.ts';
import { markIrreversible, userTransaction } from '../../store/transaction.ts';
import type { RateLimited } from '../session/auth.ts';
import type { ServiceDeps } from '../deps.ts';

export type SentCode = { id: string; expiresAt: Date };

/** Thrown inside the send transaction so that a failed delivery rolls everything back. */
class Undeliverable extends Error {}

/**
 * Emails a fresh 6-digit code bound to the user, org, purpose (and session, when given); once it
 * is delivered, the previous one is void. At most one send per 30 s per user and purpose, and 10
 * an hour per user. Everything happens in one transaction holding the user's row lock, the email
 * included: two parallel requests cannot both send, and a mail server that is down or refuses
 * rolls it all back (no code exists that nobody received, the earlier code still works, and a
 * step-up spent by `authorize` is given back). The lock is held at most for the SMTP timeouts.
 */
export async function sendEmailCode<F extends Failure<ErrorCode>>(
  deps: ServiceDeps,
  subject: { user: User; org: Org },
  challenge: Pick<ChallengeBinding, 'purpose'> & {
    sessionTokenHash: string | null;
    payload?: Record<string, unknown>;
  },
  /** Runs in the transaction once the limits pass, e.g. the step-up this send needs. */
  authorize?: (tx: Kysely<Database>) => Promise<F | null>,
): Promise<Result<SentCode> | Failure<'email_unavailable'> | RateLimited | F> {
  const { user, org } = subject;
  const now = deps.clock.now();
  const code = generateEmailCode(deps.randomBytes);
  const expiresAt = new Date(now.getTime() + EMAIL_CODE_SECONDS * 1000);
  const binding = { userId: user.id, orgId: org.id, purpose: challenge.purpose };
  const minutes = EMAIL_CODE_SECONDS / 60;
  try {
    return await userTransaction(deps.db, [user.id], async (tx) => {
      const lastHour = await challengesSentSince(tx, user.id, new Date(now.getTime() - 3600_000));
      const wait = Math.max(
        resendWaitSeconds(await lastChallengeSentAt(tx, binding), now),
        hourlyWaitSeconds(lastHour.count, lastHour.oldest, now),
      );
      if (wait > 0) {
        return { ok: false as const, error: 'rate_limited' as const, retryAfterSeconds: wait };
      }
      const refused = authorize ? await authorize(tx) : null;
      if (refused) return refused;
      const id = await insertChallenge(tx, {
        ...binding,
        sessionTokenHash: challenge.sessionTokenHash,
        codeHmac: hmacCode(deps.keys.codeHmac, code),
        payload: challenge.payload ?? {},
        now,
        expiresAt,
      });
      // From here on a conflict is not retried: the code is going out, and must not go twice.
      markIrreversible(tx);
      const delivered = await deps.mailer.send(
        render(user.email, codeMessage(org.name, code, challenge.purpose, minutes)),
      );
      if (!delivered) throw new Undeliverable();
      await voidOtherChallenges(tx, binding, id, now);
      return ok({ id, expiresAt });
    });
  } catch (error) {
    if (error instanceof Undeliverable) return fail('email_unavailable');
    throw error;
  }
}

/**
 * Checks a code against one open challenge and consumes it if right. Each call spends one of the
 * challenge's 5 attempts; an expired, used, voided or foreign challenge is just a wrong code.
 * Returns the challenge's payload.
 */
export async function redeemEmailCode(
  deps: ServiceDeps,
  db: Kysely<Database>,
  challengeId: string,
  binding: ChallengeBinding & { sessionTokenHash?: string },
  input: string,
): Promise<Result<Record<string, unknown>, 'invalid_code'>> {
  const now = deps.clock.now();
  const open = await takeChallengeAttempt(db, challengeId, binding, now, EMAIL_CODE_MAX_ATTEMPTS);
  const code = normalizeEmailCode(input);
  if (!open || code === null) return fail('invalid_code');
  if (!constantTimeEqual(hmacCode(deps.keys.codeHmac, code), open.codeHmac)) {
    return fail('invalid_code');
  }
  if (!(await consumeChallenge(db, open.id, now))) return fail('invalid_code');
  return ok(open.payload);
}

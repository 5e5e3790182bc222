import { normalizeRecoveryCode } from '../../../core/recovery-codes.ts';
import { hmacCode } from '../../../core/secret-box.ts';
import type { UserMfa } from '../../../core/mfa-policy.ts';
import { recoveryCodeUsedMessage } from '../../../mail/templates.ts';
import { summarizeFactors } from '../../../store/factors.ts';
import { consumeRecoveryCode } from '../../../store/recovery-codes.ts';
import { afterCommit } from '../../../store/transaction.ts';
import { notifyUser } from '../../notify.ts';
import type { CodeAnswer, FactorCheck, HeldFactors } from '../factor.ts';

/**
 * Single-use recovery codes, 10 to a set. Implements FactorStrategy<CodeAnswer> (../factor.ts).
 * They have no enrollment of their own: a new set comes with every method enabled and on
 * regeneration (services/mfa/enrollment.ts, services/mfa/factor-management.ts).
 */

/** One set per user; each code of it is a row of its own, not a factor. */
export const multiplePerUser = false;

export function countActive(held: HeldFactors): number {
  return held.recoveryCodesRemaining;
}

/** Spent by one conditional UPDATE: of two requests with the same code, one gets the row. */
export async function verify(check: FactorCheck, answer: CodeAnswer): Promise<boolean> {
  const code = normalizeRecoveryCode(answer.code);
  if (code === null) return false;
  const hmac = hmacCode(check.deps.keys.codeHmac, code);
  return consumeRecoveryCode(check.tx, check.subject.user.id, hmac, check.now);
}

/**
 * The user hears that a code was used, and how many remain, once the action it proved commits: an
 * action rolled back gives the code back, and a run retried after a conflict is told of once.
 */
export async function afterVerified(check: FactorCheck, userMfa: UserMfa): Promise<UserMfa> {
  const { user, org } = check.subject;
  // Counted again, not decremented: another code of the same user may have been spent meanwhile.
  const { recoveryCodesRemaining } = await summarizeFactors(check.tx, user.id);
  await check.audit('mfa.recovery_code_used', { remaining: recoveryCodesRemaining });
  const message = recoveryCodeUsedMessage(org.name, recoveryCodesRemaining);
  afterCommit(check.tx, () => notifyUser(check.deps, user.email, message));
  return { ...userMfa, recoveryCodesRemaining };
}

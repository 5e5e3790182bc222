import { ok } from '../../../core/errors.ts';
import { findOpenChallengeId } from '../../../store/email-challenges.ts';
import { redeemEmailCode, sendEmailCode } from '../email-codes.ts';
import type { CodeAnswer, FactorCheck, FactorStrategy, HeldFactors } from '../factor.ts';
import { confirmEmailSetup, startEmailSetup } from './enrollment.ts';

/** A code emailed to the account's address. Implements FactorStrategy<CodeAnswer> (../factor.ts). */

/** The account has one address, so one email factor. */
export const multiplePerUser = false;

export function countActive(held: HeldFactors): number {
  return held.factors.filter((factor) => factor.type === 'email').length;
}

/** An emailed code answers only the challenge sent for this session and this purpose. */
export async function verify(check: FactorCheck, answer: CodeAnswer): Promise<boolean> {
  const { user, org, session } = check.subject;
  const binding = { userId: user.id, orgId: org.id, purpose: check.purpose };
  const challengeId = await findOpenChallengeId(check.tx, binding, session.token_hash, check.now);
  if (!challengeId) return false;
  const redeemed = await redeemEmailCode(
    check.deps,
    check.tx,
    challengeId,
    { ...binding, sessionTokenHash: session.token_hash },
    answer.code,
  );
  return redeemed.ok;
}

/** "Send code": a fresh code bound to this session and purpose; the previous one is void. */
export const challenge: NonNullable<FactorStrategy<CodeAnswer>['challenge']> = async (
  deps,
  context,
  purpose,
) => {
  const sent = await sendEmailCode(deps, context, {
    purpose,
    sessionTokenHash: context.session.token_hash,
  });
  return sent.ok ? ok({ expiresAt: sent.value.expiresAt }) : sent;
};

export const startEnrollment = startEmailSetup;

export const confirmEnrollment: NonNullable<FactorStrategy<CodeAnswer>['confirmEnrollment']> = (
  deps,
  context,
  proof,
  origin,
) => confirmEmailSetup(deps, context, proof.code, origin);

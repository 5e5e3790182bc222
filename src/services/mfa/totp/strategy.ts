import { decryptSecret } from '../../../core/secret-box.ts';
import { matchTotpStep } from '../../../core/totp.ts';
import { consumeTotpStep } from '../../../store/factors.ts';
import type { CodeAnswer, FactorCheck, FactorStrategy, HeldFactors } from '../factor.ts';
import { confirmTotpSetup, startTotpSetup } from './enrollment.ts';
import { totpSecretAad } from './secret.ts';

/** An authenticator app (RFC 6238). Implements FactorStrategy<CodeAnswer> (../factor.ts). */

/** One authenticator per user: a new setup replaces the old one once confirmed. */
export const multiplePerUser = false;

export function countActive(held: HeldFactors): number {
  return held.factors.filter((factor) => factor.type === 'totp').length;
}

/**
 * A code of the current step or one step either side, whose step is newer than the last one the
 * factor accepted. The step is recorded by one conditional UPDATE: a code replayed in parallel, on
 * this instance or another, is accepted once.
 */
export async function verify(check: FactorCheck, answer: CodeAnswer): Promise<boolean> {
  const factor = check.held.factors.find((held) => held.type === 'totp');
  if (!factor?.secret_ciphertext) return false;
  const secret = decryptSecret(
    check.deps.keys.encryption,
    factor.secret_ciphertext,
    totpSecretAad(check.subject.user.id),
  );
  const lastUsed = factor.last_used_step === null ? null : BigInt(factor.last_used_step);
  const step = matchTotpStep(secret, answer.code, check.now, lastUsed);
  return step !== null && (await consumeTotpStep(check.tx, factor.id, step, check.now));
}

export const startEnrollment = startTotpSetup;

export const confirmEnrollment: NonNullable<FactorStrategy<CodeAnswer>['confirmEnrollment']> = (
  deps,
  context,
  proof,
  origin,
) => confirmTotpSetup(deps, context, proof.code, origin);

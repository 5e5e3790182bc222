import QRCode from 'qrcode';
import { fail, ok, type Result } from '../../../core/errors.ts';
import { PENDING_FACTOR_SECONDS } from '../../../core/limits.ts';
import { decryptSecret, encryptSecret } from '../../../core/secret-box.ts';
import {
  TOTP_SECRET_BYTES,
  createTotpKeyUri,
  encodeTotpSecret,
  matchTotpStep,
} from '../../../core/totp.ts';
import { activatePendingFactor, findFactor, replacePendingFactor } from '../../../store/factors.ts';
import type { SessionContext } from '../../../store/sessions.ts';
import { userTransaction } from '../../../store/transaction.ts';
import type { RequestOrigin, ServiceDeps } from '../../deps.ts';
import {
  announceEnrollment,
  completeEnrollment,
  enrollmentRefusal,
  supersededEnrollment,
  type EnrollmentCompleted,
  type EnrollmentRefusal,
} from '../enrollment.ts';
import { checkStepUp, type StepUpFailure } from '../step-up.ts';
import type { VerificationInput } from '../verification.ts';
import { totpSecretAad } from './secret.ts';

export type TotpSetup = { secret: string; otpauthUri: string; qrSvg: string };

/**
 * Starts (or restarts) an authenticator-app setup: a fresh 160-bit secret, encrypted at rest,
 * replacing any earlier pending one. A user who already has a factor and is fully signed in must
 * step up first; a session in enrollment may only do the enrollment its policy demands.
 */
export async function startTotpSetup(
  deps: ServiceDeps,
  context: SessionContext,
  verification: VerificationInput | undefined,
  origin: RequestOrigin,
): Promise<Result<TotpSetup> | EnrollmentRefusal | StepUpFailure> {
  const refusal = enrollmentRefusal(context, 'totp');
  if (refusal) return refusal;
  const secret = deps.randomBytes(TOTP_SECRET_BYTES);
  const now = deps.clock.now();
  const stored = await userTransaction(deps.db, [context.user.id], async (tx) => {
    const superseded = await supersededEnrollment(tx, context);
    if (superseded) return superseded;
    if (context.session.status === 'authenticated') {
      const stepUp = await checkStepUp(deps, tx, context, 'add_method', verification, origin);
      if (!stepUp.ok) return stepUp;
    }
    const sealed = encryptSecret(
      deps.keys.encryption,
      secret,
      totpSecretAad(context.user.id),
      deps.randomBytes,
    );
    await replacePendingFactor(tx, {
      userId: context.user.id,
      orgId: context.org.id,
      type: 'totp',
      secretCiphertext: sealed,
      now,
    });
    return ok(true);
  });
  if (!stored.ok) return stored;
  const otpauthUri = createTotpKeyUri(context.org.name, context.user.email, secret);
  const qrSvg = await QRCode.toString(otpauthUri, {
    type: 'svg',
    errorCorrectionLevel: 'M',
    margin: 2,
  });
  return ok({ secret: encodeTotpSecret(secret), otpauthUri, qrSvg });
}

/**
 * Activates the pending secret once the user types a code from it. The code's step is recorded,
 * so it cannot sign in afterwards.
 */
export async function confirmTotpSetup(
  deps: ServiceDeps,
  context: SessionContext,
  code: string,
  origin: RequestOrigin,
): Promise<Result<EnrollmentCompleted, 'invalid_code' | 'no_pending_setup'> | EnrollmentRefusal> {
  const refusal = enrollmentRefusal(context, 'totp');
  if (refusal) return refusal;
  const now = deps.clock.now();
  const confirmed = await userTransaction(deps.db, [context.user.id], async (tx) => {
    const superseded = await supersededEnrollment(tx, context);
    if (superseded) return superseded;
    const pending = await findFactor(tx, context.user.id, 'totp', 'pending');
    const expiresAt = (pending?.created_at.getTime() ?? 0) + PENDING_FACTOR_SECONDS * 1000;
    if (!pending?.secret_ciphertext || expiresAt <= now.getTime()) return fail('no_pending_setup');
    const secret = decryptSecret(
      deps.keys.encryption,
      pending.secret_ciphertext,
      totpSecretAad(context.user.id),
    );
    const step = matchTotpStep(secret, code, now, null);
    if (step === null) return fail('invalid_code');
    if (!(await activatePendingFactor(tx, pending, now, step))) return fail('no_pending_setup');
    return ok(await completeEnrollment(deps, tx, context, 'totp', origin));
  });
  if (confirmed.ok) announceEnrollment(deps, context, 'totp');
  return confirmed;
}

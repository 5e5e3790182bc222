import QRCode from 'qrcode';
import { fail, ok, type Failure, type Result } from '../core/errors.ts';
import { PENDING_FACTOR_SECONDS } from '../core/limits.ts';
import { generateRecoveryCodes, normalizeRecoveryCode } from '../core/recovery-codes.ts';
import { decryptSecret, encryptSecret, hmacCode } from '../core/secret-box.ts';
import {
  TOTP_SECRET_BYTES,
  createTotpKeyUri,
  encodeTotpSecret,
  matchTotpStep,
} from '../core/totp.ts';
import { methodEnabledMessage } from '../mail/templates.ts';
import { appendAuditEvent } from '../store/audit.ts';
import { notifyUser } from './notify.ts';
import { activatePendingFactor, findFactor, replacePendingFactor } from '../store/factors.ts';
import { replaceRecoveryCodes } from '../store/recovery-codes.ts';
import type { SessionContext } from '../store/sessions.ts';
import { rotateSession, type SignedIn } from './auth.ts';
import type { RequestOrigin, ServiceDeps } from './deps.ts';
import type { StepUpResult } from './step-up.ts';
import { checkStepUp } from './step-up.ts';
import { totpSecretAad, type VerificationInput } from './verification.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

export type TotpSetup = { secret: string; otpauthUri: string; qrSvg: string };

type EnrollmentRefusal = Failure<'mfa_disabled' | 'method_not_allowed_by_org' | 'forbidden'>;
type StepUpFailure = Exclude<StepUpResult, { ok: true }>;

function enrollmentRefusal(context: SessionContext): EnrollmentRefusal | null {
  if (context.user.sso) return fail('forbidden');
  if (context.org.mfa_policy === 'disabled') return fail('mfa_disabled');
  if (!context.org.totp_allowed) return fail('method_not_allowed_by_org');
  return null;
}

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
  const refusal = enrollmentRefusal(context);
  if (refusal) return refusal;
  const secret = deps.randomBytes(TOTP_SECRET_BYTES);
  const now = deps.clock.now();
  const stored = await deps.db.transaction().execute(async (tx) => {
    if (context.session.status === 'authenticated') {
      const stepUp = await checkStepUp(deps, tx, context, verification, origin);
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

export type TotpConfirmed = { recoveryCodes: string[]; session: SignedIn | null };

/**
 * Activates the pending secret once the user types a code from it, and hands out a new set of 10
 * recovery codes (the old set dies). The code's step is recorded, so it cannot sign in afterwards.
 * A session in enrollment becomes authenticated, with a new token.
 */
export async function confirmTotpSetup(
  deps: ServiceDeps,
  context: SessionContext,
  code: string,
  origin: RequestOrigin,
): Promise<Result<TotpConfirmed, 'invalid_code' | 'no_pending_setup'> | EnrollmentRefusal> {
  const refusal = enrollmentRefusal(context);
  if (refusal) return refusal;
  const now = deps.clock.now();
  const confirmed = await deps.db.transaction().execute(async (tx) => {
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
    const recoveryCodes = await issueRecoveryCodes(deps, tx, context.user.id, now);
    await appendAuditEvent(tx, {
      type: 'mfa.enrolled',
      orgId: context.org.id,
      actorUserId: context.user.id,
      targetUserId: context.user.id,
      ...origin,
      details: { method: 'totp' },
      at: now,
    });
    const session =
      context.session.status === 'enrollment_required'
        ? await rotateSession(deps, tx, context, { status: 'authenticated', aal: 2 }, origin)
        : null;
    return ok({ recoveryCodes, session });
  });
  if (confirmed.ok) {
    notifyUser(deps, context.user.email, methodEnabledMessage(context.org.name, 'totp'));
  }
  return confirmed;
}

/** A new set of 10 codes replaces the old one whole; only their HMACs are stored. */
export async function issueRecoveryCodes(
  deps: ServiceDeps,
  tx: Kysely<Database>,
  userId: string,
  now: Date,
): Promise<string[]> {
  const codes = generateRecoveryCodes(deps.randomBytes);
  const hmacs = codes.map((code) => hmacCode(deps.keys.codeHmac, normalizeRecoveryCode(code)!));
  await replaceRecoveryCodes(tx, userId, hmacs, now);
  return codes;
}

import type { Kysely } from 'kysely';
import { fail, type Failure } from '../../core/errors.ts';
import { enrollmentSuperseded, type MfaMethod } from '../../core/mfa-policy.ts';
import { generateRecoveryCodes, normalizeRecoveryCode } from '../../core/recovery-codes.ts';
import { hmacCode } from '../../core/secret-box.ts';
import { methodEnabledMessage } from '../../mail/templates.ts';
import { appendAuditEvent } from '../../store/audit.ts';
import { replaceRecoveryCodes } from '../../store/recovery-codes.ts';
import type { Database } from '../../store/schema.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { lockUserRow } from '../../store/users.ts';
import { recordAuthentication, rotateSession, type SignedIn } from '../session/auth.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { orgMfaOf, userMfaOf } from './state.ts';
import { notifyUser } from '../notify.ts';

/** What every method's enrollment shares: who may enroll, and what happens once it is confirmed. */

export type EnrollmentRefusal = Failure<
  'mfa_disabled' | 'method_not_allowed_by_org' | 'forbidden' | 'mfa_required'
>;

/** SSO users never enroll; nobody does while MFA is disabled or the org does not allow the method. */
export function enrollmentRefusal(
  context: SessionContext,
  method: MfaMethod,
): EnrollmentRefusal | null {
  if (context.user.sso) return fail('forbidden');
  if (context.org.mfa_policy === 'disabled') return fail('mfa_disabled');
  if (!context.org.mfa_methods.includes(method)) return fail('method_not_allowed_by_org');
  return null;
}

/**
 * A session sent to enrollment may enroll only while its user still has to (see
 * enrollmentSuperseded); once another session enrolled a method, this one must sign in again and
 * verify it. Run it in the enrollment's transaction: the user's row lock serializes two
 * enrollments racing each other.
 */
export async function supersededEnrollment(
  tx: Kysely<Database>,
  context: SessionContext,
): Promise<EnrollmentRefusal | null> {
  if (context.session.status !== 'enrollment_required') return null;
  await lockUserRow(tx, context.user.id);
  const user = await userMfaOf(tx, context.user);
  const superseded = enrollmentSuperseded(orgMfaOf(context.org), user, context.session.aal);
  return superseded ? fail('mfa_required') : null;
}

export type EnrollmentCompleted = { recoveryCodes: string[]; session: SignedIn | null };

/**
 * Inside the transaction that activated the factor: a new set of 10 recovery codes replaces the
 * old one (every factor enabled gives a new set), the event is audited, and a session that was
 * in enrollment becomes authenticated with a new token (the user just proved the new factor).
 */
export async function completeEnrollment(
  deps: ServiceDeps,
  tx: Kysely<Database>,
  context: SessionContext,
  method: MfaMethod,
  origin: RequestOrigin,
): Promise<EnrollmentCompleted> {
  const now = deps.clock.now();
  const recoveryCodes = await issueRecoveryCodes(deps, tx, context.user.id, now);
  await appendAuditEvent(tx, {
    type: 'mfa.enrolled',
    orgId: context.org.id,
    actorUserId: context.user.id,
    targetUserId: context.user.id,
    ...origin,
    details: { method },
    at: now,
  });
  const completesSignIn = context.session.status === 'enrollment_required';
  // The new factor, just proven, is the sign-in's second factor.
  if (completesSignIn) await recordAuthentication(deps, tx, context.session.token_hash, { method });
  const session = completesSignIn
    ? await rotateSession(deps, tx, context, { status: 'authenticated', aal: 2 }, origin)
    : null;
  return { recoveryCodes, session };
}

/** After the commit: the user hears of the new method by email. */
export function announceEnrollment(deps: ServiceDeps, context: SessionContext, method: MfaMethod) {
  notifyUser(deps, context.user.email, methodEnabledMessage(context.org.name, method));
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

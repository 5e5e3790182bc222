import { fail, ok, type Failure, type Result } from '../../core/errors.ts';
import { statusAfterVerification } from '../../core/mfa-policy.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { userTransaction } from '../../store/transaction.ts';
import { recordAuthentication, rotateSession, type SignedIn } from '../session/auth.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { orgMfaOf } from './state.ts';
import { verifyFactor, type TooManyAttempts, type VerificationInput } from './verification.ts';

/**
 * The second step of sign-in. The code is consumed, the session's authentication facts take in
 * the factor, and the session is replaced (new token, AAL2) in one transaction: all or nothing.
 */
export async function completeMfaLogin(
  deps: ServiceDeps,
  context: SessionContext,
  input: VerificationInput,
  origin: RequestOrigin,
): Promise<Result<SignedIn, 'invalid_code'> | Failure<'mfa_not_pending'> | TooManyAttempts> {
  if (context.session.status !== 'mfa_required') return fail('mfa_not_pending');
  return userTransaction(deps.db, [context.user.id], async (tx) => {
    const verified = await verifyFactor(deps, tx, context, input, { origin, purpose: 'login' });
    if (!verified.ok) return verified;
    const status = statusAfterVerification(orgMfaOf(context.org), verified.value.userMfa);
    await recordAuthentication(deps, tx, context.session.token_hash, {
      method: verified.value.method,
    });
    return ok(await rotateSession(deps, tx, context, { status, aal: 2 }, origin));
  });
}

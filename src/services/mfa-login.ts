import { fail, ok, type Failure, type Result } from '../core/errors.ts';
import { statusAfterVerification } from '../core/mfa-policy.ts';
import type { SessionContext } from '../store/sessions.ts';
import { userTransaction } from '../store/transaction.ts';
import { rotateSession, type SignedIn } from './auth.ts';
import type { RequestOrigin, ServiceDeps } from './deps.ts';
import { orgMfaOf } from './mfa-state.ts';
import { verifyFactor, type TooManyAttempts, type VerificationInput } from './verification.ts';

/**
 * The second step of sign-in. The code is consumed and the session replaced (new token, AAL2) in
 * one transaction: either both happen or neither.
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
    return ok(await rotateSession(deps, tx, context, { status, aal: 2 }, origin));
  });
}

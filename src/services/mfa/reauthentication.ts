import { fail, ok, type Result } from '../../core/errors.ts';
import { offeredMethods } from '../../core/mfa-policy.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { userTransaction } from '../../store/transaction.ts';
import { recordAuthentication } from '../session/auth.ts';
import type { RequestOrigin, ServiceDeps } from '../deps.ts';
import { orgMfaOf, userMfaOf } from './state.ts';
import {
  verifySecondFactor,
  type TooManyAttempts,
  type VerificationInput,
} from './verification.ts';

export type ReauthenticationResult =
  | Result<'verified', 'invalid_code' | 'mfa_required' | 'enrollment_required' | 'no_second_factor'>
  | TooManyAttempts;

/**
 * A fully signed-in session proves a second factor again, on its own (not for one of the console's
 * sensitive actions): what an app's authorization request asks for with acr_values or max_age.
 * The factor is a fresh authentication of the session, so auth_time, amr and acr move; nothing
 * else about the session changes. A user with no factor the org allows has nothing to prove.
 */
export async function reauthenticate(
  deps: ServiceDeps,
  context: SessionContext,
  input: VerificationInput,
  origin: RequestOrigin,
): Promise<ReauthenticationResult> {
  const { status } = context.session;
  if (status === 'mfa_required' || status === 'enrollment_required') return fail(status);
  return userTransaction(deps.db, [context.user.id], async (tx) => {
    const userMfa = await userMfaOf(tx, context.user);
    if (offeredMethods(orgMfaOf(context.org), userMfa).length === 0) {
      return fail('no_second_factor');
    }
    const verified = await verifySecondFactor(deps, tx, context, input, {
      origin,
      purpose: 'step_up',
    });
    if (!verified.ok) return verified;
    await recordAuthentication(deps, tx, context.session.token_hash, { method: verified.value });
    return ok('verified' as const);
  });
}

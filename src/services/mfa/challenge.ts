import { fail, type Failure, type Result } from '../../core/errors.ts';
import type { VerificationMethod } from '../../core/factor-methods.ts';
import { offeredMethods } from '../../core/mfa-policy.ts';
import type { SessionContext } from '../../store/sessions.ts';
import type { RateLimited } from '../session/auth.ts';
import type { ServiceDeps } from '../deps.ts';
import { orgMfaOf, userMfaOf } from './state.ts';
import type { ChallengeSent } from './factor.ts';
import { strategyFor } from './registry.ts';

/**
 * "Send code", at sign-in (a session waiting for its second factor) or for a step-up (a signed-in
 * session): the method's strategy sends what the user will answer with, bound to this session and
 * that purpose. A method whose answer needs nothing sent (an authenticator app, a recovery code)
 * answers method_has_no_challenge, whatever the session's state.
 */
export async function sendChallenge(
  deps: ServiceDeps,
  context: SessionContext,
  method: VerificationMethod,
): Promise<
  | Result<ChallengeSent>
  | Failure<
      'method_has_no_challenge' | 'method_not_enabled' | 'mfa_not_pending' | 'email_unavailable'
    >
  | RateLimited
> {
  const { challenge } = strategyFor(method);
  if (!challenge) return fail('method_has_no_challenge');
  const { session } = context;
  if (session.status === 'enrollment_required') return fail('mfa_not_pending');
  const offered = offeredMethods(orgMfaOf(context.org), await userMfaOf(deps.db, context.user));
  if (!offered.includes(method)) return fail('method_not_enabled');
  return challenge(deps, context, session.status === 'mfa_required' ? 'login' : 'step_up');
}

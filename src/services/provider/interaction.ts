import {
  authenticationRequestOf,
  meetsAuthenticationRequest,
} from '../../core/authentication-request.ts';
import type { SessionContext } from '../../store/sessions.ts';
import { loginOf, type ConsoleLogin } from './console-session.ts';

/** What the interaction of an authorization request does next. */
export type InteractionStep =
  /** The console session meets the request: the provider goes on with this login. */
  | { step: 'login'; login: ConsoleLogin }
  /** No fully signed-in console session of the org: the console's sign-in, then back. */
  | { step: 'sign_in' }
  /**
   * The session does not meet max_age or the acr asked for. A fresh verification inside the
   * request is not offered yet, so the app is told at once (OpenID Connect Unmet Authentication
   * Requirements 1.0) instead of a code for a weaker authentication than it asked.
   */
  | { step: 'unmet' };

export function nextInteractionStep(
  context: SessionContext | undefined,
  params: Record<string, unknown>,
  now: Date,
): InteractionStep {
  if (!context) return { step: 'sign_in' };
  const facts = { authTime: context.session.auth_time, acr: context.session.acr };
  if (!meetsAuthenticationRequest(facts, authenticationRequestOf(params), now)) {
    return { step: 'unmet' };
  }
  return { step: 'login', login: loginOf(context) };
}

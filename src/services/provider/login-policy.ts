import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import {
  authenticationRequestOf,
  meetsAuthenticationRequest,
} from '../../core/authentication-request.ts';
import type { ServiceDeps } from '../deps.ts';
import { consoleSessionFor, loginOf } from './console-session.ts';

const { Check } = interactionPolicy;

/**
 * oidc-provider's prompts (login, then consent), with the console's session as the judge of the
 * login: the provider's own session only remembers what the console said. Each authorization
 * request is answered without a visit to the console only while the console session it came
 * with is still alive, is the same user's, states the same authentication, and meets what the
 * request asks (max_age, acr_values, an acr claim). Otherwise the browser goes through the
 * interaction (routes/oidc.ts), which signs it in again from the console, or sends it there.
 */
export function loginPolicy(deps: ServiceDeps, orgId: string, consoleCookie: string) {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new Check(
      'console_session',
      'the console session ended, changed, or does not meet the request',
      // Asked with prompt=none, the app learns that the user must sign in (again).
      'login_required',
      async (ctx: KoaContextWithOIDC) => {
        const { oidc } = ctx;
        const session = oidc.session;
        // Back from the interaction, which has just checked the console session itself.
        if (oidc.result?.login) return Check.NO_NEED_TO_PROMPT;
        const token = ctx.cookies.get(consoleCookie, { signed: false });
        const context = await consoleSessionFor(deps, orgId, token);
        if (!context || !session || context.user.id !== session.accountId)
          return Check.REQUEST_PROMPT;
        const login = loginOf(context);
        if (session.loginTs !== login.ts || session.acr !== login.acr) {
          return Check.REQUEST_PROMPT;
        }
        const request = authenticationRequestOf(oidc.params as Record<string, unknown>);
        const facts = { authTime: context.session.auth_time, acr: context.session.acr };
        return meetsAuthenticationRequest(facts, request, deps.clock.now())
          ? Check.NO_NEED_TO_PROMPT
          : Check.REQUEST_PROMPT;
      },
    ),
  );
  return policy;
}

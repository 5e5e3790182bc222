import type { SessionContext } from '../../store/sessions.ts';
import { resolveSession } from '../session/auth.ts';
import type { ServiceDeps } from '../deps.ts';

/**
 * The console session a browser brings to an org's issuer, when it is fully signed in to that
 * org: the one source of who the user is. A session still waiting for its second factor or its
 * enrollment, or a session of another org, signs nobody in at this issuer.
 */
export async function consoleSessionFor(
  deps: ServiceDeps,
  orgId: string,
  token: string | null | undefined,
): Promise<SessionContext | undefined> {
  const context = await orgSessionFor(deps, orgId, token);
  return context?.session.status === 'authenticated' ? context : undefined;
}

/**
 * The console session a browser brings to an org's issuer, in whatever state (the interaction
 * sends a session still waiting for its enrollment to the console's enrollment); none of another
 * org.
 */
export async function orgSessionFor(
  deps: ServiceDeps,
  orgId: string,
  token: string | null | undefined,
): Promise<SessionContext | undefined> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 128) return undefined;
  const context = await resolveSession(deps, token);
  return context && context.org.id === orgId ? context : undefined;
}

/** The login an ID token states: the session's user and its authentication facts. */
export type ConsoleLogin = { accountId: string; ts: number; acr: string; amr: string[] };

export function loginOf(context: SessionContext): ConsoleLogin {
  return {
    accountId: context.user.id,
    ts: Math.floor(context.session.auth_time.getTime() / 1000),
    acr: context.session.acr,
    amr: [...context.session.amr],
  };
}

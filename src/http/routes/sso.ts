import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SSO_STATE_SECONDS } from '../../core/limits.ts';
import { RETURN_PATH_MAX_LENGTH, consoleReturnPath } from '../../core/return-path.ts';
import { hashToken } from '../../core/tokens.ts';
import { endSessionByToken, resolveSession } from '../../services/session/auth.ts';
import { completeSsoLogin, ssoAvailable, startSsoLogin } from '../../services/sso/login.ts';
import { ssoStartPath } from '../../services/sso/paths.ts';
import type { RouteContext } from '../route-context.ts';
import { SsoAvailabilitySchema } from '../contract.ts';
import { sendFailure } from '../error-status.ts';
import { ErrorSchema, Slug } from '../schemas.ts';
import { requestOrigin, sessionToken, setSessionCookie, type CookieSettings } from '../session.ts';

type SsoCookies = { state: string; returnTo: string; path: string; secure: boolean };

/**
 * Over https the two cookies take the __Host- prefix, as the session cookie does: the browser then
 * keeps them only if they are Secure, have no Domain and have Path=/, so a sibling subdomain
 * cannot plant a state or a return path. Over plain http (development) they keep their names and
 * stay scoped to the SSO routes.
 */
function ssoCookies(cookie: CookieSettings): SsoCookies {
  return cookie.secure
    ? {
        state: '__Host-portcullis_sso_state',
        returnTo: '__Host-portcullis_sso_return',
        path: '/',
        secure: true,
      }
    : {
        state: 'portcullis_sso_state',
        returnTo: 'portcullis_sso_return',
        path: '/api/v1/auth/sso',
        secure: false,
      };
}

/** Where to come back to: a page of the console (see consoleReturnPath), else the home page. */
function returnPathOf(raw: string | undefined): string {
  return consoleReturnPath(raw) ?? '/';
}

/**
 * OpenID Connect sign-in: /start redirects to the org's identity provider, the provider redirects
 * back to /callback. The `state` also rides in an HttpOnly cookie, so a callback from another
 * browser (login CSRF) or a replayed one finds no match and makes no session.
 */
export const ssoRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie, perIpAuthLimit },
) => {
  const names = ssoCookies(cookie);
  const cookieOptions = {
    path: names.path,
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: names.secure,
    maxAge: SSO_STATE_SECONDS,
  };

  app.get(
    '/auth/sso/:org/start',
    {
      config: perIpAuthLimit,
      schema: {
        tags: ['auth'],
        params: Type.Object({ org: Slug }),
        querystring: Type.Object(
          {
            purpose: Type.Optional(Type.Union([Type.Literal('login'), Type.Literal('step_up')])),
            return_to: Type.Optional(Type.String({ maxLength: RETURN_PATH_MAX_LENGTH })),
          },
          { additionalProperties: false },
        ),
        response: { 302: Type.Null(), 401: ErrorSchema, 404: ErrorSchema, 502: ErrorSchema },
      },
    },
    async (request, reply) => {
      const purpose = request.query.purpose ?? 'login';
      let sessionTokenHash: string | null = null;
      if (purpose === 'step_up') {
        // A step-up re-authenticates the SSO user of this very session.
        const token = sessionToken(request, cookie);
        const context = token ? await resolveSession(deps, token) : undefined;
        if (!context?.user.sso || context.org.slug !== request.params.org) {
          return sendFailure(reply, { error: 'unauthenticated' });
        }
        sessionTokenHash = hashToken(token!);
      }
      const started = await startSsoLogin(deps, request.params.org, { purpose, sessionTokenHash });
      if (!started.ok) return sendFailure(reply, started);
      reply.setCookie(names.state, started.value.state, cookieOptions);
      reply.setCookie(names.returnTo, returnPathOf(request.query.return_to), cookieOptions);
      return reply.redirect(started.value.url, 302);
    },
  );

  // Whether the sign-in page offers "Sign in with SSO" for this org.
  app.get(
    '/auth/sso/:org',
    {
      schema: {
        tags: ['auth'],
        params: Type.Object({ org: Slug }),
        response: { 200: SsoAvailabilitySchema },
      },
    },
    async (request) => ({
      enabled: await ssoAvailable(deps, request.params.org),
      start_url: ssoStartPath(request.params.org.trim().toLowerCase()),
    }),
  );

  app.get(
    '/auth/sso/callback',
    { config: perIpAuthLimit, schema: { tags: ['auth'], response: { 302: Type.Null() } } },
    async (request, reply) => {
      // Checked again: the cookie may have been planted rather than set by /start.
      const returnTo = returnPathOf(request.cookies[names.returnTo]);
      clearSsoCookies(reply, names);
      const result = await completeSsoLogin(
        deps,
        {
          url: new URL(request.url, deps.publicUrl),
          stateFromCookie: request.cookies[names.state] ?? null,
        },
        requestOrigin(request),
      );
      if (!result.ok) return redirectWithError(request, reply, returnTo, result.error);
      if (result.value.purpose === 'login') {
        // Whatever session the browser had is dead after a sign-in, as after /auth/login.
        const previous = sessionToken(request, cookie);
        if (previous) await endSessionByToken(deps, previous);
        setSessionCookie(reply, cookie, result.value.signedIn.token);
        return reply.redirect('/', 302);
      }
      return reply.redirect(withQuery(returnTo, 'sso', 'verified'), 302);
    },
  );
};

function clearSsoCookies(reply: FastifyReply, names: SsoCookies) {
  const options = { path: names.path, httpOnly: true, secure: names.secure };
  reply.clearCookie(names.state, options);
  reply.clearCookie(names.returnTo, options);
}

/** Errors come back to the console, which shows them: the browser is mid-redirect, not an API client. */
function redirectWithError(
  request: FastifyRequest,
  reply: FastifyReply,
  returnTo: string,
  error: string,
) {
  request.log.info({ sso_error: error }, 'sso sign-in refused');
  const target = returnTo === '/' ? '/sign-in' : returnTo;
  return reply.redirect(withQuery(target, 'sso_error', error), 302);
}

function withQuery(path: string, name: string, value: string): string {
  const url = new URL(path, 'http://console.invalid');
  url.searchParams.set(name, value);
  return `${url.pathname}${url.search}`;
}

import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SSO_STATE_SECONDS } from '../../core/limits.ts';
import { hashToken } from '../../core/tokens.ts';
import { resolveSession } from '../../services/auth.ts';
import { completeSsoLogin, ssoAvailable, startSsoLogin } from '../../services/sso-login.ts';
import { ssoStartPath } from '../../services/sso-paths.ts';
import type { RouteContext } from '../route-context.ts';
import { sendFailure } from '../error-status.ts';
import { ErrorSchema, Slug } from '../schemas.ts';
import { requestOrigin, sessionToken, setSessionCookie } from '../session.ts';

const STATE_COOKIE = 'portcullis_sso_state';
const RETURN_COOKIE = 'portcullis_sso_return';
const COOKIE_PATH = '/api/v1/auth/sso';

/** A path of the console to come back to; anything else (another site, a scheme) is refused. */
function safeReturnPath(raw: string | undefined): string {
  return raw && /^\/(?!\/)[\w\-./?=&%#]*$/.test(raw) ? raw : '/';
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
  const cookieOptions = {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: cookie.secure,
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
            return_to: Type.Optional(Type.String({ maxLength: 300 })),
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
      reply.setCookie(STATE_COOKIE, started.value.state, cookieOptions);
      reply.setCookie(RETURN_COOKIE, safeReturnPath(request.query.return_to), cookieOptions);
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
        response: { 200: Type.Object({ enabled: Type.Boolean(), start_url: Type.String() }) },
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
      const returnTo = safeReturnPath(request.cookies[RETURN_COOKIE]);
      clearSsoCookies(reply, cookieOptions);
      const result = await completeSsoLogin(
        deps,
        {
          url: new URL(request.url, deps.publicUrl),
          stateFromCookie: request.cookies[STATE_COOKIE] ?? null,
        },
        requestOrigin(request),
      );
      if (!result.ok) return redirectWithError(request, reply, returnTo, result.error);
      if (result.value.purpose === 'login') {
        setSessionCookie(reply, cookie, result.value.signedIn.token);
        return reply.redirect('/', 302);
      }
      return reply.redirect(withQuery(returnTo, 'sso', 'verified'), 302);
    },
  );
};

function clearSsoCookies(reply: FastifyReply, options: { path: string; secure: boolean }) {
  reply.clearCookie(STATE_COOKIE, { path: options.path, secure: options.secure });
  reply.clearCookie(RETURN_COOKIE, { path: options.path, secure: options.secure });
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

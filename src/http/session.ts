import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SessionStatus } from '../core/mfa-policy.ts';
import type { SessionContext } from '../store/sessions.ts';
import { resolveSession } from '../services/session/auth.ts';
import type { ServiceDeps } from '../services/deps.ts';
import { SESSION_ABSOLUTE_SECONDS } from '../core/limits.ts';
import { sendError } from './error-status.ts';

declare module 'fastify' {
  interface FastifyRequest {
    auth: SessionContext | null;
  }
}

export type CookieSettings = { name: string; secure: boolean };

/** Over https the cookie takes the __Host- prefix: bound to this host, path / and Secure. */
export function cookieSettings(baseUrl: URL | null): CookieSettings {
  const secure = baseUrl?.protocol === 'https:';
  return { name: secure ? '__Host-portcullis_session' : 'portcullis_session', secure };
}

export function setSessionCookie(reply: FastifyReply, settings: CookieSettings, token: string) {
  reply.setCookie(settings.name, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: settings.secure,
    maxAge: SESSION_ABSOLUTE_SECONDS,
  });
}

export function clearSessionCookie(reply: FastifyReply, settings: CookieSettings) {
  reply.clearCookie(settings.name, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: settings.secure,
  });
}

export function sessionToken(request: FastifyRequest, settings: CookieSettings): string | null {
  const token = request.cookies[settings.name];
  return typeof token === 'string' && token.length > 0 && token.length <= 128 ? token : null;
}

/**
 * Guards every route registered in the scope: no live session, 401. Routes opt in by scope, never
 * by URL matching. By default only a fully authenticated session passes; a session still waiting
 * for its second factor or its enrollment gets 403 with its status as the error code, unless the
 * scope lists that status. `admin` further asks for the admin role (403 otherwise).
 */
export function requireSession(
  scope: FastifyInstance,
  deps: ServiceDeps,
  settings: CookieSettings,
  options: { admin?: boolean; statuses?: readonly SessionStatus[] } = {},
) {
  const statuses = options.statuses ?? ['authenticated'];
  scope.addHook('onRequest', async (request, reply) => {
    const token = sessionToken(request, settings);
    const context = token ? await resolveSession(deps, token) : undefined;
    if (!context) {
      if (token) clearSessionCookie(reply, settings);
      return sendError(reply, 'unauthenticated');
    }
    const status = context.session.status;
    if (!statuses.includes(status)) {
      return sendError(reply, status === 'authenticated' ? 'forbidden' : status);
    }
    if (options.admin && context.user.role !== 'admin') return sendError(reply, 'forbidden');
    request.auth = context;
  });
}

export function requestOrigin(request: FastifyRequest) {
  const userAgent = request.headers['user-agent'];
  return {
    ip: request.ip ?? null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
  };
}

/** The session context of a route inside a requireSession scope. */
export function authOf(request: FastifyRequest): SessionContext {
  if (!request.auth) throw new Error('route registered outside a session scope');
  return request.auth;
}

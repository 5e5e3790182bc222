import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { endSessionByToken, login, logout } from '../../services/session/auth.ts';
import type { RouteContext } from '../route-context.ts';
import { LoginAnswerSchema, LoginBodySchema } from '../contract.ts';
import { sendFailure } from '../error-status.ts';
import { ALL_SESSION_STATUSES, authErrors } from '../schemas.ts';
import {
  authOf,
  clearSessionCookie,
  requestOrigin,
  requireSession,
  sessionToken,
  setSessionCookie,
} from '../session.ts';

export const authRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie, perIpAuthLimit },
) => {
  app.post(
    '/auth/login',
    {
      config: perIpAuthLimit,
      schema: {
        tags: ['auth'],
        body: LoginBodySchema,
        response: { 200: LoginAnswerSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const result = await login(deps, request.body, requestOrigin(request));
      if (!result.ok) return sendFailure(reply, result);
      // Whatever cookie came in is dead after a sign-in: it is deleted, and a new token is set.
      const previous = sessionToken(request, cookie);
      if (previous) await endSessionByToken(deps, previous);
      setSessionCookie(reply, cookie, result.value.token);
      const { session, methods } = result.value;
      return { status: session.status, aal: session.aal, methods };
    },
  );

  app.register(async (scope) => {
    requireSession(scope, deps, cookie, { statuses: ALL_SESSION_STATUSES });
    scope.post(
      '/auth/logout',
      { schema: { tags: ['auth'], response: { 204: Type.Null(), ...authErrors } } },
      async (request, reply) => {
        await logout(deps, authOf(request), requestOrigin(request));
        clearSessionCookie(reply, cookie);
        return reply.code(204).send();
      },
    );
  });
};

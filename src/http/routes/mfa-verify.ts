import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sendVerificationCode } from '../../services/factor-management.ts';
import { completeMfaLogin } from '../../services/mfa-login.ts';
import type { RouteContext } from '../route-context.ts';
import { sendFailure } from '../error-status.ts';
import {
  ALL_SESSION_STATUSES,
  ErrorSchema,
  SessionSchema,
  VerificationSchema,
  authErrors,
} from '../schemas.ts';
import { authOf, requestOrigin, requireSession, setSessionCookie } from '../session.ts';

export const mfaVerifyRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie },
) => {
  requireSession(app, deps, cookie, { statuses: ALL_SESSION_STATUSES });
  app.post(
    '/auth/mfa/verify',
    {
      schema: {
        tags: ['auth'],
        body: VerificationSchema,
        response: { 200: SessionSchema, 409: ErrorSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const result = await completeMfaLogin(
        deps,
        authOf(request),
        request.body,
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      setSessionCookie(reply, cookie, result.value.token);
      return { status: result.value.session.status, aal: result.value.session.aal };
    },
  );

  app.post(
    '/auth/verification/email',
    {
      schema: {
        tags: ['auth'],
        response: {
          202: Type.Object({ expires_at: Type.String() }),
          409: ErrorSchema,
          503: ErrorSchema,
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const result = await sendVerificationCode(deps, authOf(request));
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(202).send({ expires_at: result.value.expiresAt.toISOString() });
    },
  );
};

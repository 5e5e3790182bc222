import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sendChallenge } from '../../services/mfa/challenge.ts';
import { completeMfaLogin } from '../../services/mfa/login.ts';
import type { RouteContext } from '../route-context.ts';
import { CodeSentSchema } from '../contract.ts';
import { sendFailure } from '../error-status.ts';
import {
  ALL_SESSION_STATUSES,
  ErrorSchema,
  SessionSchema,
  VerificationMethodSchema,
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

  /** Sends what a method's answer needs (an emailed code); /auth/verification/email as before. */
  app.post(
    '/auth/verification/:method',
    {
      schema: {
        tags: ['auth'],
        params: Type.Object({ method: VerificationMethodSchema }),
        response: { 202: CodeSentSchema, 409: ErrorSchema, 503: ErrorSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const result = await sendChallenge(deps, authOf(request), request.params.method);
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(202).send({ expires_at: result.value.expiresAt.toISOString() });
    },
  );
};

import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { disableMethod, regenerateRecoveryCodes } from '../../services/mfa/factor-management.ts';
import type { RouteContext } from '../route-context.ts';
import { IssuedRecoveryCodesSchema } from '../contract.ts';
import { sendFailure } from '../error-status.ts';
import {
  authErrors,
  emptyBodyAsObject,
  ErrorSchema,
  MfaMethodSchema,
  WithVerificationBody,
} from '../schemas.ts';
import { authOf, requestOrigin, requireSession } from '../session.ts';

/** Managing the methods one has: a fully signed-in session and, when MFA applies, a fresh code. */
export const meFactorRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie },
) => {
  requireSession(app, deps, cookie);

  app.post(
    '/me/mfa/:method/disable',
    {
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['me'],
        params: Type.Object({ method: MfaMethodSchema }),
        body: WithVerificationBody,
        response: { 204: Type.Null(), 409: ErrorSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const result = await disableMethod(
        deps,
        authOf(request),
        { method: request.params.method, verification: request.body.verification },
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/me/recovery-codes',
    {
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['me'],
        body: WithVerificationBody,
        response: { 200: IssuedRecoveryCodesSchema, 409: ErrorSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const result = await regenerateRecoveryCodes(
        deps,
        authOf(request),
        request.body.verification,
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      reply.header('cache-control', 'no-store');
      return { recovery_codes: result.value };
    },
  );
};

import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { completePasswordReset, requestPasswordReset } from '../../services/password/reset.ts';
import type { RouteContext } from '../route-context.ts';
import { ForgotPasswordBodySchema, ResetPasswordBodySchema } from '../contract.ts';
import { sendFailure } from '../error-status.ts';
import { commonErrors } from '../schemas.ts';
import { requestOrigin } from '../session.ts';

/** Forgot password: public routes, limited per address like sign-in. */
export const passwordResetRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, perIpAuthLimit },
) => {
  app.post(
    '/auth/password/forgot',
    {
      config: perIpAuthLimit,
      schema: {
        tags: ['auth'],
        body: ForgotPasswordBodySchema,
        response: { 202: Type.Null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      // Answered before the lookup runs: the same answer, in the same time, whether or not the
      // account exists (awaiting the token's writes made an existing account 2 to 4 times slower).
      const origin = requestOrigin(request);
      app.backgroundTasks.run('password reset request', () =>
        requestPasswordReset(deps, request.body, origin),
      );
      return reply.code(202).send(null);
    },
  );

  app.post(
    '/auth/password/reset',
    {
      config: perIpAuthLimit,
      schema: {
        tags: ['auth'],
        body: ResetPasswordBodySchema,
        response: { 204: Type.Null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      const result = await completePasswordReset(
        deps,
        { token: request.body.token, newPassword: request.body.new_password },
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send(null);
    },
  );
};

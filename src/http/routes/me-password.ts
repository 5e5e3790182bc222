import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { changePassword } from '../../services/password/change.ts';
import type { RouteContext } from '../route-context.ts';
import { ChangePasswordBodySchema } from '../contract.ts';
import { sendFailure } from '../error-status.ts';
import { authErrors } from '../schemas.ts';
import { authOf, requestOrigin, requireSession, setSessionCookie } from '../session.ts';

/** User Settings → Change Password, with the "Verification Required" step in the same request. */
export const mePasswordRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie },
) => {
  requireSession(app, deps, cookie);
  app.post(
    '/me/password',
    {
      schema: {
        tags: ['me'],
        body: ChangePasswordBodySchema,
        response: { 204: Type.Null(), ...authErrors },
      },
    },
    async (request, reply) => {
      const { current_password, new_password, verification } = request.body;
      const result = await changePassword(
        deps,
        authOf(request),
        {
          currentPassword: current_password,
          newPassword: new_password,
          ...(verification ? { verification } : {}),
        },
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      setSessionCookie(reply, cookie, result.value.token);
      return reply.code(204).send(null);
    },
  );
};

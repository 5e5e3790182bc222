import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { reauthenticate } from '../../services/mfa/reauthentication.ts';
import type { RouteContext } from '../route-context.ts';
import { sendFailure } from '../error-status.ts';
import { ErrorSchema, SessionSchema, VerificationSchema, authErrors } from '../schemas.ts';
import { authOf, requestOrigin, requireSession } from '../session.ts';

/** For signed-in sessions only: one still waiting for its second factor verifies at /mfa/verify. */
export const reauthenticateRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie },
) => {
  requireSession(app, deps, cookie);
  /**
   * A signed-in session proves its second factor again, e.g. because an app's authorization
   * request asked for a fresh one (acr_values, max_age): the session's auth_time moves.
   */
  app.post(
    '/auth/reauthenticate',
    {
      schema: {
        tags: ['auth'],
        body: VerificationSchema,
        response: { 200: SessionSchema, 409: ErrorSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const context = authOf(request);
      const result = await reauthenticate(deps, context, request.body, requestOrigin(request));
      if (!result.ok) return sendFailure(reply, result);
      return { status: context.session.status, aal: context.session.aal };
    },
  );
};

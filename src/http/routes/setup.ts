import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { startSession } from '../../services/session/auth.ts';
import { completeSetup, setupIsOpen } from '../../services/org/setup.ts';
import type { RouteContext } from '../route-context.ts';
import { SetupBodySchema, SetupDoneSchema, SetupStatusSchema } from '../contract.ts';
import { sendError } from '../error-status.ts';
import { ErrorSchema, commonErrors } from '../schemas.ts';
import { requestOrigin, setSessionCookie } from '../session.ts';

/** First run: the setup link printed at start-up creates the first org and its admin. */
export const setupRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie, perIpAuthLimit },
) => {
  app.get(
    '/setup',
    { schema: { tags: ['setup'], response: { 200: SetupStatusSchema } } },
    async () => ({ open: await setupIsOpen(deps) }),
  );

  app.post(
    '/setup',
    {
      config: perIpAuthLimit,
      schema: {
        tags: ['setup'],
        body: SetupBodySchema,
        response: { 201: SetupDoneSchema, 409: ErrorSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { token, org, admin } = request.body;
      const origin = requestOrigin(request);
      const created = await completeSetup(deps, token, { ...org, admin }, origin);
      if (!created.ok) return sendError(reply, created.error);
      // The admin who just chose the password is signed in, as after any sign-in.
      const { admin: user, org: newOrg } = created.value;
      // A new org starts with MFA disabled, so its admin is fully signed in.
      const signedIn = await startSession(
        deps,
        {
          user,
          org: newOrg,
          status: 'authenticated',
          aal: 1,
          authentication: { method: 'password' },
        },
        origin,
      );
      setSessionCookie(reply, cookie, signedIn.token);
      return reply
        .code(201)
        .send({ org: { slug: created.value.org.slug, name: created.value.org.name } });
    },
  );
};

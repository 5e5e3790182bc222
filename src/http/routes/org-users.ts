import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createUser } from '../../services/accounts.ts';
import type { RouteContext } from '../route-context.ts';
import { sendError } from '../error-status.ts';
import { Email, ErrorSchema, Name, Password, Role, UserSchema, authErrors } from '../schemas.ts';
import { authOf, requestOrigin, requireSession } from '../session.ts';

export const orgUserRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie },
) => {
  requireSession(app, deps, cookie, { admin: true });
  app.post(
    '/org/users',
    {
      schema: {
        tags: ['org'],
        body: Type.Object(
          {
            email: Email,
            name: Name,
            role: Role,
            password: Type.Optional(Password),
            sso: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ user: UserSchema }), 409: ErrorSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const { user: admin, org } = authOf(request);
      const { password, sso: wantsSso = false, ...account } = request.body;
      // An SSO user has no password; any other user must have one.
      if (wantsSso === (password !== undefined)) return sendError(reply, 'invalid_request');
      const input = { ...account, password: password ?? null };
      const created = await createUser(deps, org, input, {
        userId: admin.id,
        origin: requestOrigin(request),
      });
      if (!created.ok) return sendError(reply, created.error);
      const { id, email, name, role, sso } = created.value;
      return reply.code(201).send({ user: { id, email, name, role, sso } });
    },
  );
};

import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { describeOrgMfa, strengthenMfaPolicy } from '../../services/org-mfa.ts';
import type { RouteContext } from '../route-context.ts';
import { sendFailure } from '../error-status.ts';
import { authErrors } from '../schemas.ts';
import { authOf, requestOrigin, requireSession, setSessionCookie } from '../session.ts';

const Policy = Type.Union([
  Type.Literal('disabled'),
  Type.Literal('enabled'),
  Type.Literal('required'),
]);

/** The org admin's MFA settings. */
export const orgMfaRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie },
) => {
  requireSession(app, deps, cookie, { admin: true });

  app.get(
    '/org/mfa',
    {
      schema: {
        tags: ['org'],
        response: {
          200: Type.Object({
            policy: Policy,
            methods: Type.Object({ totp: Type.Boolean(), email: Type.Boolean() }),
            users_total: Type.Integer(),
            users_enrolled: Type.Integer(),
          }),
          ...authErrors,
        },
      },
    },
    async (request) => {
      const summary = await describeOrgMfa(deps, authOf(request));
      return {
        policy: summary.policy,
        methods: summary.methods,
        users_total: summary.usersTotal,
        users_enrolled: summary.usersEnrolled,
      };
    },
  );

  app.put(
    '/org/mfa/policy',
    {
      schema: {
        tags: ['org'],
        body: Type.Object(
          {
            policy: Policy,
            sessions: Type.Union([Type.Literal('invalidate'), Type.Literal('keep')]),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ policy: Policy, session: Type.Object({ status: Type.String() }) }),
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      const context = authOf(request);
      const result = await strengthenMfaPolicy(deps, context, request.body, requestOrigin(request));
      if (!result.ok) return sendFailure(reply, result);
      const { policy, session } = result.value;
      if (session) setSessionCookie(reply, cookie, session.token);
      return { policy, session: { status: session?.session.status ?? context.session.status } };
    },
  );
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { describeOrgMfa, strengthenMfaPolicy } from '../../services/org/mfa-policy.ts';
import type { RouteContext } from '../route-context.ts';
import { OrgMfaSchema, PolicyStrengthenedSchema, StrengthenPolicyBodySchema } from '../contract.ts';
import { sendFailure } from '../error-status.ts';
import { authErrors } from '../schemas.ts';
import { authOf, requestOrigin, requireSession, setSessionCookie } from '../session.ts';

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
        response: { 200: OrgMfaSchema, ...authErrors },
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
        body: StrengthenPolicyBodySchema,
        response: { 200: PolicyStrengthenedSchema, ...authErrors },
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

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteContext } from '../route-context.ts';
import { allowedMethods } from '../../core/mfa-policy.ts';
import { activeFactorsOf, orgMfaOf } from '../../services/mfa/state.ts';
import { MeSchema } from '../contract.ts';
import { ALL_SESSION_STATUSES, authErrors } from '../schemas.ts';
import { authOf, requireSession } from '../session.ts';

export const meRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (app, { deps, cookie }) => {
  requireSession(app, deps, cookie, { statuses: ALL_SESSION_STATUSES });
  app.get(
    '/me',
    { schema: { tags: ['me'], response: { 200: MeSchema, ...authErrors } } },
    async (request) => {
      const { user, org, session } = authOf(request);
      const { factors, userMfa } = await activeFactorsOf(deps.db, user);
      return {
        user: {
          id: user.id,
          email: user.email,
          name: user.name,
          role: user.role,
          sso: user.sso,
          org: { slug: org.slug, name: org.name },
        },
        session: { status: session.status, aal: session.aal },
        authentication: {
          auth_time: session.auth_time.toISOString(),
          acr: session.acr,
          amr: session.amr,
        },
        mfa: {
          policy: org.mfa_policy,
          allowed_methods: allowedMethods(orgMfaOf(org)),
          methods: factors.map((factor) => ({
            type: factor.type,
            created_at: (factor.activated_at ?? factor.created_at).toISOString(),
            last_used_at: factor.last_used_at?.toISOString() ?? null,
          })),
          recovery_codes_remaining: userMfa.recoveryCodesRemaining,
        },
      };
    },
  );
};

import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RouteContext } from '../route-context.ts';
import { allowedMethods } from '../../core/mfa-policy.ts';
import { activeFactorsOf, orgMfaOf } from '../../services/mfa-state.ts';
import {
  ALL_SESSION_STATUSES,
  OrgSchema,
  SessionSchema,
  UserSchema,
  authErrors,
} from '../schemas.ts';
import { authOf, requireSession } from '../session.ts';

const MethodName = Type.Union([Type.Literal('totp'), Type.Literal('email')]);

const MeSchema = Type.Object({
  user: Type.Object({ ...UserSchema.properties, org: OrgSchema }),
  session: SessionSchema,
  mfa: Type.Object({
    policy: Type.Union([
      Type.Literal('disabled'),
      Type.Literal('enabled'),
      Type.Literal('required'),
    ]),
    allowed_methods: Type.Array(MethodName),
    methods: Type.Array(
      Type.Object({
        type: MethodName,
        created_at: Type.String(),
        last_used_at: Type.Union([Type.String(), Type.Null()]),
      }),
    ),
    recovery_codes_remaining: Type.Integer(),
  }),
});

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

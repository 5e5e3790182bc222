import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { setAllowedMethods } from '../../services/org-methods.ts';
import { confirmPolicyWeakening, requestPolicyWeakening } from '../../services/org-mfa-weaken.ts';
import type { RouteContext } from '../route-context.ts';
import { sendFailure } from '../error-status.ts';
import { Code, ErrorSchema, Uuid, VerificationSchema, authErrors } from '../schemas.ts';
import { authOf, requestOrigin, requireSession } from '../session.ts';

const errors = { 409: ErrorSchema, 503: ErrorSchema, ...authErrors };

/** Weakening the policy by an emailed code (seed 000) and the allowed methods (seed 004). */
export const orgMfaChangeRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie },
) => {
  requireSession(app, deps, cookie, { admin: true });

  app.post(
    '/org/mfa/policy/weaken',
    {
      schema: {
        tags: ['org'],
        body: Type.Object(
          { policy: Type.Union([Type.Literal('disabled'), Type.Literal('enabled')]) },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({ request_id: Type.String(), expires_at: Type.String() }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const result = await requestPolicyWeakening(
        deps,
        authOf(request),
        request.body.policy,
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return reply
        .code(202)
        .send({ request_id: result.value.id, expires_at: result.value.expiresAt.toISOString() });
    },
  );

  app.post(
    '/org/mfa/policy/weaken/confirm',
    {
      schema: {
        tags: ['org'],
        body: Type.Object({ request_id: Uuid, code: Code }, { additionalProperties: false }),
        response: {
          200: Type.Object({ policy: Type.String() }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const result = await confirmPolicyWeakening(
        deps,
        authOf(request),
        { requestId: request.body.request_id, code: request.body.code },
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return { policy: result.value };
    },
  );

  app.put(
    '/org/mfa/methods',
    {
      schema: {
        tags: ['org'],
        body: Type.Object(
          {
            totp: Type.Boolean(),
            email: Type.Boolean(),
            verification: Type.Optional(VerificationSchema),
            confirm_stranded_users: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e9 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            methods: Type.Object({ totp: Type.Boolean(), email: Type.Boolean() }),
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { confirm_stranded_users: confirmStrandedUsers, ...methods } = request.body;
      const result = await setAllowedMethods(
        deps,
        authOf(request),
        { ...methods, ...(confirmStrandedUsers === undefined ? {} : { confirmStrandedUsers }) },
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return { methods: result.value };
    },
  );
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { setAllowedMethods } from '../../services/org/methods.ts';
import { confirmPolicyWeakening, requestPolicyWeakening } from '../../services/org/mfa-weaken.ts';
import type { RouteContext } from '../route-context.ts';
import {
  AllowedMethodsBodySchema,
  AllowedMethodsChangedSchema,
  ConfirmWeakeningBodySchema,
  PolicyWeakenedSchema,
  WeakenPolicyBodySchema,
  WeakeningRequestedSchema,
} from '../contract.ts';
import { sendFailure } from '../error-status.ts';
import { ErrorSchema, authErrors } from '../schemas.ts';
import { authOf, requestOrigin, requireSession } from '../session.ts';

const errors = { 409: ErrorSchema, 503: ErrorSchema, ...authErrors };

/** Weakening the policy (confirmed by a code emailed to the admin) and the allowed methods. */
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
        body: WeakenPolicyBodySchema,
        response: { 202: WeakeningRequestedSchema, ...errors },
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
        body: ConfirmWeakeningBodySchema,
        response: { 200: PolicyWeakenedSchema, ...errors },
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
        body: AllowedMethodsBodySchema,
        response: { 200: AllowedMethodsChangedSchema, ...errors },
      },
    },
    async (request, reply) => {
      const {
        confirm_stranded_users: confirmStrandedUsers,
        verification,
        ...methods
      } = request.body;
      const result = await setAllowedMethods(
        deps,
        authOf(request),
        {
          methods,
          ...(verification === undefined ? {} : { verification }),
          ...(confirmStrandedUsers === undefined ? {} : { confirmStrandedUsers }),
        },
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return { methods: result.value };
    },
  );
};

import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { createUserAsAdmin } from '../../services/org/accounts.ts';
import { resetUserMfa } from '../../services/mfa/reset.ts';
import { listOrgUsers } from '../../store/org-users.ts';
import type { RouteContext } from '../route-context.ts';
import {
  CreateUserBodySchema,
  MfaStatusSchema,
  UserCreatedSchema,
  UsersPageSchema,
} from '../contract.ts';
import { sendError, sendFailure } from '../error-status.ts';
import { PageQuery, pageOf, readPage } from '../pagination.ts';
import { authErrors, emptyBodyAsObject, ErrorSchema, WithVerificationBody } from '../schemas.ts';
import { authOf, requestOrigin, requireSession } from '../session.ts';

/** System → Users: the org's users with their MFA status; creating users; Reset MFA. */
export const orgUserRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie },
) => {
  requireSession(app, deps, cookie, { admin: true });

  app.get(
    '/org/users',
    {
      schema: {
        tags: ['org'],
        querystring: Type.Object(
          { ...PageQuery, mfa: Type.Optional(MfaStatusSchema) },
          { additionalProperties: false },
        ),
        response: { 200: UsersPageSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const page = readPage(request.query);
      if (!page.ok) return sendError(reply, page.error);
      const rows = await listOrgUsers(deps.db, authOf(request).org.id, {
        after: page.cursor,
        limit: page.limit + 1,
        mfa: request.query.mfa ?? null,
      });
      const { items, nextCursor } = pageOf(rows, page.limit, (user) => user.created_at);
      return {
        users: items.map(({ id, email, name, role, sso, mfa }) => ({
          id,
          email,
          name,
          role,
          sso,
          mfa,
        })),
        next_cursor: nextCursor,
      };
    },
  );

  app.post(
    '/org/users',
    {
      schema: {
        tags: ['org'],
        body: CreateUserBodySchema,
        response: { 201: UserCreatedSchema, 409: ErrorSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const { password, sso: wantsSso = false, verification, ...account } = request.body;
      // An SSO user has no password; any other user must have one.
      if (wantsSso === (password !== undefined)) return sendError(reply, 'invalid_request');
      const input = { ...account, password: password ?? null };
      const created = await createUserAsAdmin(
        deps,
        authOf(request),
        input,
        verification,
        requestOrigin(request),
      );
      if (!created.ok) return sendFailure(reply, created);
      const { id, email, name, role, sso } = created.value;
      return reply.code(201).send({ user: { id, email, name, role, sso } });
    },
  );

  app.post(
    '/org/users/:id/mfa/reset',
    {
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['org'],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        body: WithVerificationBody,
        response: { 204: Type.Null(), 404: ErrorSchema, 409: ErrorSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const result = await resetUserMfa(
        deps,
        authOf(request),
        { userId: request.params.id, verification: request.body.verification },
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send(null);
    },
  );
};

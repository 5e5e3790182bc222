import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { listAuditEvents } from '../../store/audit.ts';
import type { RouteContext } from '../route-context.ts';
import { AuditPageSchema } from '../contract.ts';
import { sendError } from '../error-status.ts';
import { PageQuery, pageOf, readPage } from '../pagination.ts';
import { Uuid, authErrors } from '../schemas.ts';
import { authOf, requireSession } from '../session.ts';

/** The org's security events, newest first. */
export const orgAuditRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie },
) => {
  requireSession(app, deps, cookie, { admin: true });
  app.get(
    '/org/audit',
    {
      schema: {
        tags: ['org'],
        querystring: Type.Object(
          {
            ...PageQuery,
            type: Type.Optional(Type.String({ maxLength: 100, pattern: '^[a-z_.]+$' })),
            user: Type.Optional(Uuid),
          },
          { additionalProperties: false },
        ),
        response: { 200: AuditPageSchema, ...authErrors },
      },
    },
    async (request, reply) => {
      const page = readPage(request.query);
      if (!page.ok) return sendError(reply, page.error);
      const rows = await listAuditEvents(deps.db, authOf(request).org.id, {
        before: page.cursor,
        limit: page.limit + 1,
        ...(request.query.type ? { type: request.query.type } : {}),
        ...(request.query.user ? { userId: request.query.user } : {}),
      });
      const { items, nextCursor } = pageOf(rows, page.limit, (event) => event.created_at);
      return {
        events: items.map((event) => ({ ...event, created_at: event.created_at.toISOString() })),
        next_cursor: nextCursor,
      };
    },
  );
};

import type {} from '@fastify/swagger';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Store } from '../../store/db.ts';

type OperationsOptions = { store: Store };

/** Probes for operators and load balancers; no session needed. */
export const operationsRoutes: FastifyPluginAsyncTypebox<OperationsOptions> = async (
  app,
  { store },
) => {
  const Status = Type.Object({ status: Type.String() });
  app.get('/healthz', { schema: { hide: true, response: { 200: Status } } }, async () => ({
    status: 'ok',
  }));
  app.get(
    '/readyz',
    { schema: { hide: true, response: { 200: Status, 503: Status } } },
    async (_request, reply) => {
      if (await store.isReachable()) return { status: 'ok' };
      return reply.code(503).send({ status: 'database_unreachable' });
    },
  );
};

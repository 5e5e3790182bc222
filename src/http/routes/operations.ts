import type {} from '@fastify/swagger';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Registry } from 'prom-client';
import type { Store } from '../../store/db.ts';

type OperationsOptions = { store: Store; metrics: Registry };

/** Probes and metrics for operators and load balancers; no session needed. */
export const operationsRoutes: FastifyPluginAsyncTypebox<OperationsOptions> = async (
  app,
  { store, metrics },
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
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const body = await metrics.metrics();
    return reply.type(metrics.contentType).send(body);
  });
};

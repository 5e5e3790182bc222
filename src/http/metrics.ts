import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { sendError } from './error-status.ts';

/** A registry per app (not prom-client's global one), so that two apps in one process stay apart. */
export function installMetrics(app: FastifyInstance): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'portcullis_' });
  const requests = new Counter({
    name: 'portcullis_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'portcullis_http_request_duration_seconds',
    help: 'HTTP request duration by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, never the raw URL: bounded label values and no ids or tokens in metrics.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  return registry;
}

type MetricsRouteOptions = { registry: Registry; token: string | null };

/**
 * GET /metrics answers only a scraper that sends the operator's token; with no token configured it
 * is off (404). "Only from loopback" was not chosen: behind a reverse proxy on the same host every
 * request comes from loopback.
 */
export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (
  app,
  { registry, token },
) => {
  const expected = token === null ? null : digest(token);
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (expected === null) return sendError(reply, 'not_found');
    const sent = bearerToken(request.headers.authorization);
    // Digests of equal length, compared in constant time: neither the token nor its length leaks.
    if (sent === null || !timingSafeEqual(digest(sent), expected)) {
      reply.header('www-authenticate', 'Bearer realm="metrics"');
      return sendError(reply, 'invalid_metrics_token');
    }
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
};

/** The credentials of `Authorization: Bearer <token>` (the scheme is case-insensitive, RFC 9110). */
function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer +(\S+)$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

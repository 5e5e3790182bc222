import type { FastifyInstance } from 'fastify';
import { sendError } from './error-status.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for cookie sessions: a state-changing request that a browser marks as coming from
 * another origin is refused. Requests with no Origin header (curl, servers) pass: they cannot carry
 * a victim's cookie, and a cross-site form cannot send application/json, which every such route
 * requires.
 */
export function installOriginCheck(app: FastifyInstance, baseUrl: URL | null) {
  app.addHook('onRequest', async (request, reply) => {
    if (SAFE_METHODS.has(request.method)) return;
    if (request.headers['sec-fetch-site'] === 'cross-site') {
      return sendError(reply, 'forbidden_origin');
    }
    const origin = request.headers.origin;
    if (origin === undefined) return;
    const expected = baseUrl ? baseUrl.origin : `${request.protocol}://${request.host}`;
    if (origin !== expected) return sendError(reply, 'forbidden_origin');
  });
}

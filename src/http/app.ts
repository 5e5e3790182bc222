import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { DestinationStream } from 'pino';
import type { Config } from '../config.ts';
import {
  AUTH_REQUESTS_PER_IP_PER_MINUTE,
  REQUEST_BODY_MAX_BYTES,
  REQUEST_MAX_SECONDS,
  REQUEST_TIMEOUT_CHECK_SECONDS,
} from '../core/limits.ts';
import type { ServiceDeps } from '../services/deps.ts';
import type { Store } from '../store/db.ts';
import { installBackgroundTasks } from './background.ts';
import { installErrorHandlers, installNulByteGuard } from './error-handler.ts';
import { sendError } from './error-status.ts';
import { installMetrics, metricsRoutes } from './metrics.ts';
import { serializeRequest } from './log-redaction.ts';
import { installOriginCheck } from './origin-check.ts';
import { helmetOptions, installNoStoreByDefault } from './response-headers.ts';
import { authRoutes } from './routes/auth.ts';
import { meRoutes } from './routes/me.ts';
import { meFactorRoutes } from './routes/me-factors.ts';
import { meMfaRoutes } from './routes/me-mfa.ts';
import { mePasswordRoutes } from './routes/me-password.ts';
import { passwordResetRoutes } from './routes/password-reset.ts';
import { mfaVerifyRoutes } from './routes/mfa-verify.ts';
import { reauthenticateRoutes } from './routes/reauthenticate.ts';
import { oidcRoutes } from './routes/oidc.ts';
import { orgAppRoutes } from './routes/org-apps.ts';
import { orgAuditRoutes } from './routes/org-audit.ts';
import { orgSsoRoutes } from './routes/org-sso.ts';
import { ssoRoutes } from './routes/sso.ts';
import { orgMfaRoutes } from './routes/org-mfa.ts';
import { orgMfaChangeRoutes } from './routes/org-mfa-changes.ts';
import { operationsRoutes } from './routes/operations.ts';
import { orgUserRoutes } from './routes/org-users.ts';
import { setupRoutes } from './routes/setup.ts';
import { perIpLimit } from './route-context.ts';
import { cookieSettings } from './session.ts';

export type AppOptions = {
  store: Store;
  deps: ServiceDeps;
  config: Pick<Config, 'baseUrl' | 'trustProxy' | 'logLevel' | 'redisUrl'> &
    Partial<Pick<Config, 'authRequestsPerIpPerMinute' | 'metricsToken'>>;
  /** Where JSON logs go (stdout when absent); tests pass a stream to read them. */
  logStream?: DestinationStream;
};

/** Never logged, whatever a future log line includes. */
export const redactedLogPaths = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.token',
  '*.code',
  '*.secret',
];

const consoleDir = fileURLToPath(new URL('../../web/dist', import.meta.url));

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { store, deps, config } = options;
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: redactedLogPaths, censor: '[redacted]' },
      // The logged URL keeps its path; secrets in its query (the SSO code and state) do not stay.
      serializers: { req: serializeRequest },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    trustProxy: config.trustProxy,
    bodyLimit: REQUEST_BODY_MAX_BYTES,
    requestTimeout: REQUEST_MAX_SECONDS * 1000,
    http: {
      headersTimeout: REQUEST_MAX_SECONDS * 1000,
      connectionsCheckingInterval: REQUEST_TIMEOUT_CHECK_SECONDS * 1000,
    },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // Errors raised before routing (a malformed URL) answer in the API's format too.
    frameworkErrors: (_error, _request, reply) => {
      void sendError(reply as FastifyReply, 'invalid_request');
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON is the only body the API reads: everything else is a 415.
  app.removeContentTypeParser('text/plain');
  // Once closing, answers ask the client to drop the connection: an idle keep-alive socket would
  // otherwise hold a graceful shutdown until its 72 s timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
  });
  installErrorHandlers(app);
  installNulByteGuard(app);
  installBackgroundTasks(app);
  installNoStoreByDefault(app);
  const metrics = installMetrics(app);

  const secure = config.baseUrl?.protocol === 'https:';
  await app.register(helmet, helmetOptions(secure));
  await app.register(cookie);
  const redis = config.redisUrl
    ? new (await import('ioredis')).Redis(config.redisUrl, { lazyConnect: false })
    : undefined;
  if (redis) app.addHook('onClose', async () => void (await redis.quit()));
  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: 'portcullis-rate-limit-' } : {}),
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error('rate limited'), {
        statusCode: 429,
        retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)),
      }),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Portcullis API', version: '1' },
    },
  });
  installOriginCheck(app, config.baseUrl);

  const context = {
    deps,
    cookie: cookieSettings(config.baseUrl),
    perIpAuthLimit: perIpLimit(
      config.authRequestsPerIpPerMinute ?? AUTH_REQUESTS_PER_IP_PER_MINUTE,
    ),
  };
  await app.register(operationsRoutes, { store });
  await app.register(metricsRoutes, { registry: metrics, token: config.metricsToken ?? null });
  await app.register(
    async (api) => {
      await api.register(setupRoutes, context);
      await api.register(authRoutes, context);
      await api.register(mfaVerifyRoutes, context);
      await api.register(reauthenticateRoutes, context);
      await api.register(meRoutes, context);
      await api.register(meMfaRoutes, context);
      await api.register(meFactorRoutes, context);
      await api.register(mePasswordRoutes, context);
      await api.register(passwordResetRoutes, context);
      await api.register(orgUserRoutes, context);
      await api.register(orgMfaRoutes, context);
      await api.register(orgMfaChangeRoutes, context);
      await api.register(orgAuditRoutes, context);
      await api.register(orgSsoRoutes, context);
      await api.register(orgAppRoutes, context);
      await api.register(ssoRoutes, context);
      api.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: '/api/v1' },
  );
  await app.register(oidcRoutes, context);

  await app.register(fastifyStatic, {
    root: consoleDir,
    prefix: '/',
    index: false,
    wildcard: false,
  });
  // The console is one page whose router owns every path outside the API: a GET for such a path
  // (the setup link, a reset link, a reload on /admin/users) answers the page.
  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
  app.get('/*', { schema: { hide: true } }, (request, reply) => {
    if (request.url.startsWith('/api/')) return sendError(reply, 'not_found');
    return reply.sendFile('index.html');
  });
  return app;
}

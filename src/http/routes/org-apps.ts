import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  listApps,
  readApp,
  registerApp,
  removeApp,
  rotateAppSecret,
  updateApp,
  type AppSettings,
} from '../../services/provider/apps.ts';
import type { OidcApp } from '../../store/schema.ts';
import {
  AppCredentialsSchema,
  AppListSchema,
  AppRegistrationBodySchema,
  AppSchema,
  AppUpdateBodySchema,
  type App,
  type AppUpdateBody,
} from '../contract.ts';
import { sendError, sendFailure } from '../error-status.ts';
import type { RouteContext } from '../route-context.ts';
import { authErrors, emptyBodyAsObject, ErrorSchema, WithVerificationBody } from '../schemas.ts';
import { authOf, requestOrigin, requireSession } from '../session.ts';

const errors = { 404: ErrorSchema, 409: ErrorSchema, ...authErrors };
const ClientIdParams = Type.Object({ client_id: Type.String({ minLength: 1, maxLength: 64 }) });

/**
 * Settings → Apps: the org's applications that sign their users in through the org's issuer
 * (/oidc/{org}). Registering, changing, rotating a secret and removing are sensitive actions.
 */
export const orgAppRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie },
) => {
  requireSession(app, deps, cookie, { admin: true });

  app.get(
    '/org/apps',
    { schema: { tags: ['org'], response: { 200: AppListSchema, ...errors } } },
    async (request) => ({ apps: (await listApps(deps, authOf(request))).map(appOf) }),
  );

  app.post(
    '/org/apps',
    {
      schema: {
        tags: ['org'],
        body: AppRegistrationBodySchema,
        response: { 201: AppCredentialsSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { verification, ...body } = request.body;
      const result = await registerApp(
        deps,
        authOf(request),
        {
          ...settingsOf(body),
          public: body.public ?? false,
          ...(verification ? { verification } : {}),
        },
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return reply
        .code(201)
        .send({ client_id: result.value.clientId, client_secret: result.value.clientSecret });
    },
  );

  app.get(
    '/org/apps/:client_id',
    {
      schema: { tags: ['org'], params: ClientIdParams, response: { 200: AppSchema, ...errors } },
    },
    async (request, reply) => {
      const found = await readApp(deps, authOf(request), request.params.client_id);
      if (!found) return sendError(reply, 'not_found');
      return appOf(found);
    },
  );

  app.put(
    '/org/apps/:client_id',
    {
      schema: {
        tags: ['org'],
        params: ClientIdParams,
        body: AppUpdateBodySchema,
        response: { 200: AppSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { verification, ...body } = request.body;
      const result = await updateApp(
        deps,
        authOf(request),
        request.params.client_id,
        { ...settingsOf(body), ...(verification ? { verification } : {}) },
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return appOf(result.value);
    },
  );

  app.post(
    '/org/apps/:client_id/secret',
    {
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['org'],
        params: ClientIdParams,
        body: WithVerificationBody,
        response: { 200: AppCredentialsSchema, ...errors },
      },
    },
    async (request, reply) => {
      const result = await rotateAppSecret(
        deps,
        authOf(request),
        request.params.client_id,
        request.body.verification,
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return { client_id: result.value.clientId, client_secret: result.value.clientSecret };
    },
  );

  app.post(
    '/org/apps/:client_id/remove',
    {
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['org'],
        params: ClientIdParams,
        body: WithVerificationBody,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const result = await removeApp(
        deps,
        authOf(request),
        request.params.client_id,
        request.body.verification,
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send(null);
    },
  );
};

function settingsOf(body: Omit<AppUpdateBody, 'verification'>): AppSettings {
  return {
    name: body.name,
    redirectUris: body.redirect_uris,
    postLogoutRedirectUris: body.post_logout_redirect_uris ?? [],
    backchannelLogoutUri: body.backchannel_logout_uri ?? null,
  };
}

function appOf(row: OidcApp): App {
  return {
    client_id: row.client_id,
    name: row.name,
    redirect_uris: row.redirect_uris,
    post_logout_redirect_uris: row.post_logout_redirect_uris,
    backchannel_logout_uri: row.backchannel_logout_uri,
    public: row.public,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

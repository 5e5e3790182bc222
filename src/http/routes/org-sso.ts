import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { convertToSso } from '../../services/sso/accounts.ts';
import {
  readSsoSettings,
  removeSsoSettings,
  saveSsoSettings,
  testSsoConnection,
} from '../../services/sso/config.ts';
import type { RouteContext } from '../route-context.ts';
import { SsoSettingsBodySchema, SsoSettingsSchema, SsoTestedSchema } from '../contract.ts';
import { sendError, sendFailure } from '../error-status.ts';
import { authErrors, emptyBodyAsObject, ErrorSchema, WithVerificationBody } from '../schemas.ts';
import { authOf, requestOrigin, requireSession } from '../session.ts';

const errors = { 404: ErrorSchema, 409: ErrorSchema, 502: ErrorSchema, ...authErrors };

/** Account Settings → Single sign-on: the org's one OpenID Connect connection. */
export const orgSsoRoutes: FastifyPluginAsyncTypebox<RouteContext> = async (
  app,
  { deps, cookie },
) => {
  requireSession(app, deps, cookie, { admin: true });

  app.get(
    '/org/sso',
    { schema: { tags: ['org'], response: { 200: SsoSettingsSchema, ...errors } } },
    async (request, reply) => {
      const settings = await readSsoSettings(deps, authOf(request));
      if (!settings) return sendError(reply, 'sso_not_configured');
      return {
        issuer: settings.issuer,
        client_id: settings.clientId,
        allowed_domains: settings.allowedDomains,
        create_users: settings.createUsers,
        redirect_uri: settings.redirectUri,
        start_url: settings.startUrl,
      };
    },
  );

  app.put(
    '/org/sso',
    {
      schema: {
        tags: ['org'],
        body: SsoSettingsBodySchema,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const { issuer, client_id, client_secret, allowed_domains, create_users, verification } =
        request.body;
      const result = await saveSsoSettings(
        deps,
        authOf(request),
        {
          issuer,
          clientId: client_id,
          allowedDomains: allowed_domains,
          createUsers: create_users,
          ...(client_secret ? { clientSecret: client_secret } : {}),
          ...(verification ? { verification } : {}),
        },
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/org/sso/remove',
    {
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['org'],
        body: WithVerificationBody,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const result = await removeSsoSettings(
        deps,
        authOf(request),
        request.body.verification,
        requestOrigin(request),
      );
      if (!result.ok) return sendFailure(reply, result);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/org/sso/test',
    {
      schema: {
        tags: ['org'],
        response: { 200: SsoTestedSchema, ...errors },
      },
    },
    async (request, reply) => {
      const result = await testSsoConnection(deps, authOf(request));
      if (!result.ok) return sendFailure(reply, result);
      return { issuer: result.value.issuer };
    },
  );

  app.post(
    '/org/users/:id/convert-to-sso',
    {
      preValidation: emptyBodyAsObject,
      schema: {
        tags: ['org'],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        body: WithVerificationBody,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      const result = await convertToSso(
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

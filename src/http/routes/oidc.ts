import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { orgSessionFor } from '../../services/provider/console-session.ts';
import { nextInteractionStep } from '../../services/provider/interaction.ts';
import { issuerPath } from '../../services/provider/issuer.ts';
import { createOrgProviders } from '../../services/provider/org-providers.ts';
import { orgMfaOf, userMfaOf } from '../../services/mfa/state.ts';
import { findOrgBySlug } from '../../store/orgs.ts';
import type { Org } from '../../store/schema.ts';
import { sendError } from '../error-status.ts';
import type { RouteContext } from '../route-context.ts';
import { sessionToken } from '../session.ts';

/** What oidc-provider's endpoints answer (HEAD comes with GET); dynamic registration is off. */
const METHODS = ['GET', 'POST', 'OPTIONS'];
/** The issuer's part of a request path: /oidc/{slug}, as the client sent it. */
const ISSUER_PREFIX = /^\/oidc\/[^/?#]+/;

/**
 * Each org's OpenID Provider at /oidc/{org-slug}: discovery, JWKS, authorization, token, userinfo,
 * introspection, revocation and logout, all answered by the org's oidc-provider instance. The
 * request goes to it untouched (before Fastify reads the body: the provider parses its own form
 * posts), with the path below the issuer. The sign-in inside an authorization request (the
 * interaction) is the console's: /oidc/{org}/interaction/{uid}, below.
 */
export const oidcRoutes: FastifyPluginAsync<RouteContext> = async (app, { deps, cookie }) => {
  const providers = createOrgProviders(deps, cookie.name);
  const callbacks = new WeakMap<Provider, ReturnType<Provider['callback']>>();

  /** The org of the issuer path, spelled one way only (its URLs and cookie path are built so). */
  async function orgOf(request: FastifyRequest): Promise<Org | undefined> {
    const { org: slug } = request.params as { org: string };
    const org = await findOrgBySlug(deps.db, slug);
    if (!org || ISSUER_PREFIX.exec(request.raw.url ?? '')?.[0] !== issuerPath(org.slug)) {
      return undefined;
    }
    return org;
  }

  async function handOver(request: FastifyRequest, reply: FastifyReply) {
    const org = await orgOf(request);
    if (!org) return sendError(reply, 'org_not_found');
    const provider = await providers.providerOf(org);
    let callback = callbacks.get(provider);
    if (!callback) {
      callback = provider.callback();
      callbacks.set(provider, callback);
    }
    reply.hijack();
    const raw = request.raw as IncomingMessage & { baseUrl?: string };
    const url = raw.url ?? '/';
    const rest = url.slice(issuerPath(org.slug).length);
    raw.url = rest.startsWith('/') ? rest : `/${rest}`;
    raw.baseUrl = issuerPath(org.slug);
    asIssuerRequest(request, reply.raw, deps.publicUrl);
    reply.raw.once('close', () => {
      raw.url = url;
    });
    callback(raw, reply.raw);
  }

  for (const url of ['/oidc/:org', '/oidc/:org/*']) {
    app.route({
      method: METHODS,
      url,
      schema: { hide: true },
      onRequest: handOver,
      // Never reached: onRequest hands every request over to the provider.
      handler: async (_request, reply) => sendError(reply, 'not_found'),
    });
  }

  /**
   * Where the provider sends a browser whose authorization request needs the user: signed in to
   * the console (fully, in this org, meeting the request), it goes straight back to the provider
   * with that login; otherwise to the console's sign-in, which returns here when done.
   */
  app.get(
    '/oidc/:org/interaction/:uid',
    { schema: { hide: true } },
    async (request: FastifyRequest<{ Params: { org: string; uid: string } }>, reply) => {
      const org = await orgOf(request);
      if (!org) return sendError(reply, 'org_not_found');
      const provider = await providers.providerOf(org);
      asIssuerRequest(request, reply.raw, deps.publicUrl);
      const details = await provider
        .interactionDetails(request.raw, reply.raw)
        .catch(() => undefined);
      if (!details || details.uid !== request.params.uid) {
        return sendError(reply, 'provider_interaction_expired');
      }
      const context = await orgSessionFor(deps, org.id, sessionToken(request, cookie));
      const subject = context && {
        context,
        orgMfa: orgMfaOf(context.org),
        userMfa: await userMfaOf(deps.db, context.user),
      };
      const verifying = verifyingSinceOf(details.result);
      const now = deps.clock.now();
      const next = nextInteractionStep(subject, details.params, verifying, now);
      const here = `${issuerPath(org.slug)}/interaction/${details.uid}`;
      if (next.step === 'sign_in') {
        const query = new URLSearchParams({ org: org.slug, next: here });
        return reply.redirect(`/sign-in?${query}`, 303);
      }
      if (next.step === 'enroll' || next.step === 'verify') {
        // Kept in the interaction (server side) the first time: a factor proven after this
        // moment (enrolled or verified) is fresh for this request.
        if (!verifying) {
          await provider.interactionResult(
            request.raw,
            reply.raw,
            { [VERIFYING_SINCE]: now.getTime() },
            { mergeWithLastSubmission: false },
          );
        }
        const query =
          next.step === 'enroll'
            ? new URLSearchParams({ next: here })
            : new URLSearchParams({ reauthenticate: '1', next: here });
        return reply.redirect(`/${next.step}?${query}`, 303);
      }
      reply.hijack();
      const result =
        next.step === 'login'
          ? { login: { ...next.login, remember: false } }
          : {
              error: 'unmet_authentication_requirements',
              error_description: 'the session does not meet the requested max_age or acr',
            };
      await provider.interactionFinished(request.raw, reply.raw, result, {
        mergeWithLastSubmission: false,
      });
    },
  );
};

/** The interaction's record of when it first asked for a fresh factor (see interaction.ts). */
const VERIFYING_SINCE = 'portcullis_verifying_since';

function verifyingSinceOf(result: unknown): Date | null {
  const since = (result as Record<string, unknown> | undefined)?.[VERIFYING_SINCE];
  return typeof since === 'number' && Number.isFinite(since) ? new Date(since) : null;
}

/**
 * The provider sees the host and scheme of PORTCULLIS_BASE_URL (it builds its endpoints' URLs
 * and decides on Secure cookies from them): never the host a request claimed to be for.
 */
function asIssuerRequest(request: FastifyRequest, response: ServerResponse, publicUrl: URL) {
  const { host, protocol } = publicUrl;
  const headers = request.raw.headers;
  headers.host = host;
  headers['x-forwarded-host'] = host;
  headers['x-forwarded-proto'] = protocol.slice(0, -1);
  headers['x-forwarded-for'] = request.ip;
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('x-frame-options', 'DENY');
  response.setHeader('referrer-policy', 'no-referrer');
}

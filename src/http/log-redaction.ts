import type { FastifyRequest } from 'fastify';

/**
 * Query parameters whose values are secrets. The OpenID Connect callback carries `code` and
 * `state` (and could carry tokens, in other response types); the rest are there so that a future
 * route taking a secret in its query is not logged in clear. Names are compared in lower case.
 */
export const SECRET_QUERY_PARAMETERS: ReadonlySet<string> = new Set([
  'code',
  'state',
  'session_state',
  'id_token',
  // An app's hints name the user: a signed ID token (its claims), an email address.
  'id_token_hint',
  'login_hint',
  'access_token',
  'refresh_token',
  'token',
  'client_secret',
  'code_verifier',
  'password',
  'secret',
]);

export const REDACTED = '[redacted]';

/**
 * The URL as logged: the path and every query parameter kept, the value of each secret parameter
 * replaced. Works on the raw text, so that every other parameter stays exactly as it came.
 */
export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  const pairs = url
    .slice(queryStart + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return SECRET_QUERY_PARAMETERS.has(decodedName(name)) ? `${name}=${REDACTED}` : pair;
    });
  return `${url.slice(0, queryStart)}?${pairs.join('&')}`;
}

/** The name as a query parser reads it (`+` a space, escapes decoded leniently), in lower case. */
function decodedName(raw: string): string {
  return (new URLSearchParams(`${raw}=`).keys().next().value ?? '').toLowerCase();
}

/** Fastify's request serializer, with the URL redacted. */
export function serializeRequest(request: FastifyRequest) {
  const version = request.headers['accept-version'];
  return {
    method: request.method,
    url: redactUrl(request.url),
    version: typeof version === 'string' ? version : undefined,
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

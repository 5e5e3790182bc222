import { ACR_VALUES, type Acr } from './authentication-facts.ts';

/**
 * What an app's authorization request asks of the user's authentication (OpenID Connect Core
 * 3.1.2.1 and 5.5.1.1): at most `maxAgeSeconds` old (0 for prompt=login), and at one of the `acrs` levels or a
 * stronger one. Both are enforced, not advisory (RFC 9470): a session that does not meet them
 * yields no code.
 */
export type AuthenticationRequest = { maxAgeSeconds: number | null; acrs: string[] };

/**
 * The request from the authorization parameters: `max_age`, `acr_values` (space-separated), and
 * the acr claim of the `claims` parameter (`value` or `values`), all three as oidc-provider hands
 * them on (strings, or the parsed claims object).
 */
export function authenticationRequestOf(params: Record<string, unknown>): AuthenticationRequest {
  const maxAge = Number(params.max_age);
  const acrs = typeof params.acr_values === 'string' ? params.acr_values.split(' ') : [];
  const claims = parseClaims(params.claims);
  const acrClaim = claims?.id_token?.acr;
  if (acrClaim && typeof acrClaim === 'object') {
    if (typeof acrClaim.value === 'string') acrs.push(acrClaim.value);
    if (Array.isArray(acrClaim.values)) {
      acrs.push(...acrClaim.values.filter((v): v is string => typeof v === 'string'));
    }
  }
  // prompt=login asks for an authentication made for this request; oidc-provider also turns
  // max_age=0 into it (OpenID Connect Core 3.1.2.1 makes them equivalent).
  const prompts = typeof params.prompt === 'string' ? params.prompt.split(' ') : [];
  if (prompts.includes('login')) return { maxAgeSeconds: 0, acrs: acrs.filter(Boolean) };
  return {
    maxAgeSeconds:
      params.max_age !== undefined && Number.isInteger(maxAge) && maxAge >= 0 ? maxAge : null,
    acrs: acrs.filter(Boolean),
  };
}

/**
 * Whether a session's authentication meets the request: recent enough, and at a level at least as
 * strong as the weakest level asked for that Portcullis knows (a request naming only unknown
 * levels is never met).
 */
export function meetsAuthenticationRequest(
  facts: { authTime: Date; acr: string },
  request: AuthenticationRequest,
  now: Date,
): boolean {
  if (request.maxAgeSeconds !== null) {
    const ageSeconds = (now.getTime() - facts.authTime.getTime()) / 1000;
    if (ageSeconds > request.maxAgeSeconds) return false;
  }
  if (request.acrs.length === 0) return true;
  const known = request.acrs
    .map((acr) => ACR_VALUES.indexOf(acr as Acr))
    .filter((level) => level >= 0);
  if (known.length === 0) return false;
  return ACR_VALUES.indexOf(facts.acr as Acr) >= Math.min(...known);
}

type ClaimsRequest = { id_token?: { acr?: { value?: unknown; values?: unknown[] } | null } };

function parseClaims(claims: unknown): ClaimsRequest | null {
  if (claims && typeof claims === 'object') return claims as ClaimsRequest;
  if (typeof claims !== 'string') return null;
  try {
    const parsed = JSON.parse(claims) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as ClaimsRequest) : null;
  } catch {
    return null;
  }
}

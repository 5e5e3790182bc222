/** Longer than any console page with its query; the SSO start route refuses more. */
export const RETURN_PATH_MAX_LENGTH = 300;

/** Any origin would do: only whether a path stays on it matters. */
const PROBE_ORIGIN = 'http://console.invalid';

/**
 * Plain path segments only: no percent escapes (an encoded `/`, `\` or `.` is read differently by
 * different parsers), no backslash, no control character, and never two slashes at the start.
 */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/;

/**
 * A page of this console to send a browser back to (after SSO; the console's `next` too), or null.
 * The check is on what a URL parser makes of the text, not on the text: `/..//evil.test` and
 * `/\evil.test` start with one slash yet parse to `//evil.test`, another site. So the text must
 * already be in the form the parser gives back (dot segments removed, tabs and newlines dropped,
 * backslashes turned to slashes, no fragment) and that form must be a same-origin path of plain
 * segments; anything else is refused, not repaired.
 */
export function consoleReturnPath(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > RETURN_PATH_MAX_LENGTH) {
    return null;
  }
  // A backslash is a slash to browsers in the path; in the query it is harmless, but never needed.
  if (raw.includes('\\')) return null;
  let url: URL;
  try {
    url = new URL(raw, PROBE_ORIGIN);
  } catch {
    return null;
  }
  if (url.origin !== PROBE_ORIGIN || url.username !== '' || url.password !== '') return null;
  const normalised = `${url.pathname}${url.search}`;
  if (normalised !== raw || !PLAIN_PATH.test(url.pathname)) return null;
  // Under an org's issuer, only the sign-in that sent the browser here: an authorization request
  // would send a freshly signed-in user on to whatever app (of any org) named its redirect.
  if (url.pathname.startsWith('/oidc/') && !PROVIDER_INTERACTION.test(normalised)) return null;
  return normalised;
}

const PROVIDER_INTERACTION = /^\/oidc\/[a-z0-9-]+\/interaction\/[A-Za-z0-9_-]+$/;

import { APP_URI_MAX_LENGTH } from './limits.ts';

/** The loopback hosts an app on the user's own machine listens on (RFC 8252, section 7.3). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Whether an app may register this URI to receive sign-ins (redirect URIs), sign-outs or
 * back-channel logout tokens: an absolute https URL, or http on a loopback address, never with a
 * fragment or a user name. It is kept as written: the provider compares a request's redirect_uri
 * with it character for character.
 */
export function isAcceptableAppUri(value: string): boolean {
  if (value.length > APP_URI_MAX_LENGTH || value !== value.trim()) return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.hash || value.includes('#') || url.username || url.password) return false;
  if (url.protocol === 'https:') return url.hostname !== '';
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

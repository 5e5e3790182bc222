/**
 * The few calls the setup makes to the peer over HTTP, as a browser would send them: JSON bodies,
 * an Origin header (Better Auth refuses a cookie-bearing POST without one), cookies by name.
 */

export type Answer = {
  status: number;
  body: unknown;
  /** Set-Cookie values by cookie name, still encoded as sent. */
  cookies: Map<string, string>;
};

export type PeerClient = {
  baseUrl: string;
  call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    cookies?: Record<string, string>,
  ): Promise<Answer>;
};

export function createPeerClient(baseUrl: string): PeerClient {
  return {
    baseUrl,
    async call(method, path, body, cookies = {}) {
      const headers: Record<string, string> = { origin: baseUrl };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const cookieHeader = cookieHeaderOf(cookies);
      if (cookieHeader) headers.cookie = cookieHeader;
      const response = await fetch(new URL(path, baseUrl), {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return {
        status: response.status,
        body: text ? JSON.parse(text) : null,
        cookies: setCookiesOf(response),
      };
    },
  };
}

/** Cookie values are passed through as they came in Set-Cookie (already URI-encoded). */
export function cookieHeaderOf(cookies: Record<string, string>): string {
  return Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

function setCookiesOf(response: Response): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';', 1)[0] ?? '';
    const equals = pair.indexOf('=');
    if (equals > 0) cookies.set(pair.slice(0, equals), pair.slice(equals + 1));
  }
  return cookies;
}

/** Throws with the answer's body when the status is not the one the setup needs. */
export function expectStatus(answer: Answer, status: number, what: string): void {
  if (answer.status !== status) {
    throw new Error(
      `${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`,
    );
  }
}

export function requireCookie(answer: Answer, name: string, what: string): string {
  const value = answer.cookies.get(name);
  if (!value) throw new Error(`${what}: no ${name} cookie in the answer`);
  return value;
}

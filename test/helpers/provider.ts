import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import * as oidc from 'openid-client';
import type { Store } from '../../src/store/db.ts';
import { createTestApp, type TestApp } from './app.ts';
import { ManualClock } from './clock.ts';
import { freePort } from './process.ts';

/**
 * Portcullis serving over real HTTP on loopback, its base URL (PORTCULLIS_BASE_URL) that of the
 * port it listens on: what a relying party (openid-client) talks to. `listening` is where it
 * listens: the base URL too, unless it is a second instance of a deployment (`deployment`).
 */
export type ListeningApp = TestApp & {
  base: string;
  listening: string;
  masterKey: Buffer;
  issuerOf(slug: string): string;
};

export async function listeningApp(
  store: Store,
  /** Another instance of the same deployment: its base URL and master key. */
  deployment?: { base: string; masterKey: Buffer },
): Promise<ListeningApp> {
  const port = await freePort();
  const listening = `http://127.0.0.1:${port}`;
  const base = deployment?.base ?? listening;
  const masterKey = deployment?.masterKey ?? randomBytes(32);
  // The provider checks lifetimes (max_age, token expiry) against the real clock: so does the app.
  const testApp = await createTestApp(store, {
    baseUrl: base,
    clock: new ManualClock(Date.now()),
    masterKey,
  });
  await listen(testApp.app, port);
  return { ...testApp, base, listening, masterKey, issuerOf: (slug) => `${base}/oidc/${slug}` };
}

async function listen(app: FastifyInstance, port: number): Promise<void> {
  try {
    await app.listen({ port, host: '127.0.0.1' });
  } catch (error) {
    await app.close();
    throw error;
  }
}

/** A relying party's view of an org's issuer (plain HTTP on loopback is allowed in tests). */
export function discover(
  issuer: string,
  clientId: string,
  clientSecret?: string,
): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(issuer),
    clientId,
    clientSecret === undefined ? { token_endpoint_auth_method: 'none' } : undefined,
    clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(clientSecret),
    { execute: [oidc.allowInsecureRequests] },
  );
}

type Cookie = { name: string; value: string; path: string };

/**
 * A browser on Portcullis's origin, over real HTTP: it keeps cookies (with their paths) and
 * follows redirects one by one until one leaves Portcullis (to an app's redirect URI) or lands on
 * a console page, and says where it stopped.
 */
export class Browser {
  private cookies: Cookie[] = [];
  readonly origin: string;

  constructor(base: string) {
    this.origin = new URL(base).origin;
  }

  setCookie(name: string, value: string, path = '/') {
    this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path));
    this.cookies.push({ name, value, path });
  }

  clear() {
    this.cookies = [];
  }

  /** Follows redirects from `start`; `stop` is the URL it did not request, or the last answer's. */
  async follow(start: string | URL): Promise<{ stop: URL; status: number; body: string }> {
    let url = new URL(start, this.origin);
    for (let hop = 0; hop < 20; hop += 1) {
      if (url.origin !== this.origin || !url.pathname.startsWith('/oidc/')) {
        return { stop: url, status: 0, body: '' };
      }
      const response = await fetch(url, {
        redirect: 'manual',
        headers: { cookie: this.cookieHeader(url) },
      });
      this.keep(url, response.headers.getSetCookie());
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        url = new URL(location, url);
        continue;
      }
      return { stop: url, status: response.status, body: await response.text() };
    }
    throw new Error('too many redirects');
  }

  private cookieHeader(url: URL): string {
    return this.cookies
      .filter(
        (c) =>
          url.pathname === c.path ||
          url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  private keep(url: URL, setCookies: string[]) {
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = url.pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = rest.join('=') || '/';
        if (key.toLowerCase() === 'expires' && Date.parse(rest.join('=')) <= Date.now()) {
          expired = true;
        }
        if (key.toLowerCase() === 'max-age' && Number(rest.join('=')) <= 0) expired = true;
      }
      this.cookies = this.cookies.filter((c) => !(c.name === name && c.path === path));
      if (!expired) this.cookies.push({ name, value, path });
    }
  }
}

/** The redirect URI of the test apps: nothing listens there, the browser stops before it. */
export const APP_CALLBACK = 'http://127.0.0.1:9/callback';

/** Registers an app through the API with an admin's session; returns its credentials. */
export async function registerTestApp(
  served: ListeningApp,
  adminToken: string,
  options: { public?: boolean; redirectUris?: string[] } = {},
): Promise<{ clientId: string; clientSecret: string | null }> {
  const answer = await served.app.inject({
    method: 'POST',
    url: '/api/v1/org/apps',
    headers: { cookie: `portcullis_session=${adminToken}` },
    payload: {
      name: 'Test app',
      redirect_uris: options.redirectUris ?? [APP_CALLBACK],
      public: options.public ?? false,
    },
  });
  if (answer.statusCode !== 201) throw new Error(`register: ${answer.statusCode} ${answer.body}`);
  const { client_id, client_secret } = answer.json() as Record<string, string | null>;
  return { clientId: client_id!, clientSecret: client_secret ?? null };
}

/** An authorization request as openid-client builds it, with its PKCE verifier, nonce and state. */
export async function authorizationRequest(
  config: oidc.Configuration,
  extra: Record<string, string> = {},
) {
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: APP_CALLBACK,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...extra,
  });
  return { url, verifier, nonce, state };
}

/** Redeems the code an authorization request came back with, checking its nonce and state. */
export function redeem(
  config: oidc.Configuration,
  callback: URL,
  request: Awaited<ReturnType<typeof authorizationRequest>>,
) {
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.verifier,
    expectedNonce: request.nonce,
    expectedState: request.state,
  });
}

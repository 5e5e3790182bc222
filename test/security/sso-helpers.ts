import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { Browser, TestIdentityProvider, type Journey } from '../helpers/oidc-provider.ts';
import type { Service } from './harness.ts';

/*
 * SSO against a real `portcullis serve`: a test identity provider on loopback, the org connected
 * to it through the API, and a browser that reaches both over real HTTP.
 */

export const CALLBACK_PATH = '/api/v1/auth/sso/callback';

/** The identity provider of these tests listens on loopback, which the server must be told to accept. */
export const SSO_TEST_ENV = { PORTCULLIS_SSO_ALLOW_LOOPBACK: 'true' };

/** Whoever may configure the org's SSO: the harness's admin client, or a hand-made one. */
export type AdminApi = { put(path: string, body: unknown): Promise<Response> };

/**
 * Starts a test identity provider and connects the org to it as its admin. `publicUrl` is the
 * server's public base URL (PORTCULLIS_BASE_URL), where the provider sends the browser back.
 */
export async function connectIdentityProvider(
  t: TestContext,
  admin: AdminApi,
  publicUrl: string,
): Promise<TestIdentityProvider> {
  const idp = await TestIdentityProvider.start({
    redirectUris: [new URL(CALLBACK_PATH, publicUrl).toString()],
  });
  t.after(() => idp.stop());
  const connected = await admin.put('/org/sso', {
    issuer: idp.issuer,
    client_id: idp.clientId,
    client_secret: idp.clientSecret,
    allowed_domains: [],
    create_users: false,
  });
  assert.equal(connected.status, 204, await connected.clone().text());
  return idp;
}

/** An SSO user made by the admin, and the same person's account at the provider. */
export async function addSsoUser(
  admin: AdminApi & { post(path: string, body: unknown): Promise<Response> },
  idp: TestIdentityProvider,
  email = `sso-${randomBytes(4).toString('hex')}@acme.test`,
): Promise<{ email: string; account: string }> {
  const created = await admin.post('/org/users', {
    email,
    name: 'Sso User',
    role: 'member',
    sso: true,
  });
  assert.equal(created.status, 201, await created.clone().text());
  const account = idp.addAccount(`sub-${randomBytes(6).toString('hex')}`, { email });
  return { email, account };
}

/** A browser that talks to the server at `url` over real HTTP, as to any other site. */
export function httpBrowser(url: string): Browser {
  return new Browser(null, url);
}

export function describeJourney(journey: Journey): string {
  return journey.hops.map((h) => `${h.status} ${h.method} ${h.url.href}`).join(' -> ');
}

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { hashToken } from '../../src/core/tokens.ts';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  signIn,
  withSession,
} from './app.ts';
import { ManualClock } from './clock.ts';
import { enrollTotp } from './mfa.ts';
import { Browser, TestIdentityProvider, type IdpUser, type Journey } from './oidc-provider.ts';
import { useTestStore } from './store.ts';

/*
 * SSO in-process: the app under test (`app.inject`) connected to a real OpenID provider on
 * loopback, and a test browser that walks from the app to the provider and back.
 */

export const APP_URL = 'http://portcullis.test';
export const CALLBACK_URL = `${APP_URL}/api/v1/auth/sso/callback`;

/** The verification an SSO user sends once re-authenticated at the provider. */
export const SSO_VERIFICATION = { method: 'sso', code: '' };

/**
 * The identity provider of the enclosing test file (or suite), started by a `before` hook and
 * stopped by an `after` hook registered first, so that a failing start still stops it.
 */
export function useTestIdentityProvider(options: { redirectUris: string[] }): TestIdentityProvider {
  const idp = TestIdentityProvider.prepare(options);
  after(() => idp.stop());
  before(() => idp.open());
  return idp;
}

export type SsoOrgOptions = {
  provider?: TestIdentityProvider;
  createUsers?: boolean;
  allowedDomains?: string[];
  configure?: boolean;
  /** Where the app's clock starts (default: the real time now). */
  clockStart?: number;
};

/**
 * The store and the identity provider of an SSO test file, and the orgs made on them. Call it at
 * the top of the file: it registers the hooks that open and close both.
 */
export function useSsoTestbed() {
  const store = useTestStore();
  const idp = useTestIdentityProvider({ redirectUris: [CALLBACK_URL] });

  /**
   * An org whose admin (password, no MFA under the default policy) has configured the connection
   * to the test provider through the API. The app's clock starts at the real time: the provider's
   * auth_time and token lifetimes are real.
   */
  async function ssoOrg(options: SsoOrgOptions = {}) {
    const provider = options.provider ?? idp;
    const clock = new ManualClock(options.clockStart ?? Date.now());
    const testApp = await createTestApp(store, { baseUrl: APP_URL, clock });
    const seeded = await seedOrg(testApp.deps);
    const { app } = testApp;
    const slug = seeded.org.slug;
    const adminToken = await signIn(app, {
      org: slug,
      email: seeded.admin.email,
      password: ADMIN_PASSWORD,
    });
    const configureSso = (body: Record<string, unknown>, token = adminToken) =>
      app.inject({
        method: 'PUT',
        url: '/api/v1/org/sso',
        headers: withSession(token),
        payload: {
          issuer: provider.issuer,
          client_id: provider.clientId,
          client_secret: provider.clientSecret,
          allowed_domains: options.allowedDomains ?? [],
          create_users: options.createUsers ?? false,
          ...body,
        },
      });
    if (options.configure !== false) {
      const configured = await configureSso({});
      assert.equal(configured.statusCode, 204, configured.body);
    }

    /** An SSO user created by the admin, and the same person's account at the provider. */
    const addSsoUser = async (local: string, role: 'member' | 'admin' = 'member') => {
      const email = `${local}@${slug}.test`;
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1/org/users',
        headers: withSession(adminToken),
        payload: { email, name: `${local} sso`, role, sso: true },
      });
      assert.equal(created.statusCode, 201, created.body);
      const account = provider.addAccount(`sub-${randomBytes(6).toString('hex')}`, { email });
      return { id: created.json().user.id as string, email, account };
    };

    const startPath = `/api/v1/auth/sso/${slug}/start`;
    /** A whole SSO sign-in in a browser: /start, the provider's prompts, the callback. */
    const ssoSignIn = (user: IdpUser, browser = new Browser(app, APP_URL)) =>
      browser.visit(startPath, { user }).then((journey) => ({ journey, browser }));

    const audit = async (type: string) => {
      const response = await app.inject({
        url: `/api/v1/org/audit?type=${type}`,
        headers: withSession(adminToken),
      });
      assert.equal(response.statusCode, 200, response.body);
      return response.json().events as Array<{
        type: string;
        target: { id: string } | null;
        details: Record<string, unknown>;
      }>;
    };

    return {
      ...testApp,
      ...seeded,
      slug,
      provider,
      adminToken,
      configureSso,
      addSsoUser,
      startPath,
      ssoSignIn,
      audit,
    };
  }

  /** An org with an SSO admin signed in through the provider and a member enrolled in TOTP. */
  async function ssoAdminOrg() {
    // Enrolling moves the app's clock 30 s on; start it a minute back so that it stays within a
    // plausible skew of the provider's (real) clock.
    const setup = await ssoOrg({ clockStart: Date.now() - 60_000 });
    const { app, clock, org, member, slug } = setup;
    await store.db
      .updateTable('orgs')
      .set({ mfa_policy: 'enabled' })
      .where('id', '=', org.id)
      .execute();
    const memberToken = await signIn(app, {
      org: slug,
      email: member.email,
      password: MEMBER_PASSWORD,
    });
    await enrollTotp(app, memberToken, clock);
    const ssoAdmin = await setup.addSsoUser('sam', 'admin');
    const { journey, browser } = await setup.ssoSignIn({ account: ssoAdmin.account });
    assert.equal(journey.landed?.href, `${APP_URL}/`);
    const token = browser.cookie('portcullis_session') as string;
    const resetMember = (verification?: { method: string; code: string }) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/org/users/${member.id}/mfa/reset`,
        headers: withSession(token),
        payload: verification ? { verification } : {},
      });
    const setMethods = (verification?: { method: string; code: string }) =>
      app.inject({
        method: 'PUT',
        url: '/api/v1/org/mfa/methods',
        headers: withSession(token),
        payload: { totp: true, email: false, ...(verification ? { verification } : {}) },
      });
    const reauthenticatedAt = async () =>
      (
        await store.db
          .selectFrom('sessions')
          .select('sso_reauthenticated_at')
          .where('token_hash', '=', hashToken(token))
          .executeTakeFirstOrThrow()
      ).sso_reauthenticated_at;
    return { ...setup, ssoAdmin, browser, token, resetMember, setMethods, reauthenticatedAt };
  }

  async function sessionsOf(userId: string) {
    return store.db.selectFrom('sessions').selectAll().where('user_id', '=', userId).execute();
  }

  /** The app's pending sign-in for the state this callback carries. */
  async function stateRow(callbackUrl: URL) {
    return store.db
      .selectFrom('sso_states')
      .selectAll()
      .where('state_hash', '=', hashToken(callbackUrl.searchParams.get('state') ?? ''))
      .executeTakeFirst();
  }

  return { store, idp, ssoOrg, ssoAdminOrg, sessionsOf, stateRow };
}

/** The answer of the app's callback in a journey. */
export function callbackOf(journey: Journey) {
  const hop = journey.hops.find(
    (h) => h.url.origin === APP_URL && h.url.pathname === '/api/v1/auth/sso/callback',
  );
  assert.ok(hop, `no callback in ${journey.hops.map((h) => h.url.href).join(' -> ')}`);
  return hop;
}

export function sessionCookieSet(journey: Journey): boolean {
  return journey.hops.some((h) =>
    h.setCookies.some((c) => /^(__Host-)?portcullis_session=[^;]/.test(c)),
  );
}

/** The journey ended on the sign-in page with this error, and no session cookie was ever set. */
export function assertRefused(journey: Journey, error: string, path = '/sign-in') {
  assert.ok(
    journey.landed,
    `the browser did not land: ${journey.hops.map((h) => `${h.status} ${h.url.href}`).join(' -> ')}`,
  );
  assert.equal(journey.landed.pathname, path);
  assert.equal(journey.landed.searchParams.get('sso_error'), error);
  assert.equal(sessionCookieSet(journey), false);
}

const atCallback = (url: URL) => url.href.startsWith(CALLBACK_URL);

/** Runs the flow up to the provider's redirect back to the app, and stops there. */
export async function untilCallback(
  browser: Browser,
  startPath: string,
  user: IdpUser,
): Promise<URL> {
  const journey = await browser.visit(startPath, { user, stopAt: atCallback });
  assert.ok(
    journey.stoppedAt,
    `never reached the callback: ${journey.hops.map((h) => `${h.status} ${h.url.href}`).join(' -> ')}`,
  );
  assert.ok(journey.stoppedAt.searchParams.get('code'));
  return journey.stoppedAt;
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN, Service } from './harness.ts';
import {
  CALLBACK_PATH,
  SSO_TEST_ENV,
  addSsoUser,
  connectIdentityProvider,
  describeJourney,
  httpBrowser,
  type AdminApi,
} from './sso-helpers.ts';

/*
 * A server whose public URL is https (behind a TLS proxy): the SSO cookies are bound to its host
 * like the session cookie, and the code and state that the identity provider sends back through
 * the browser never reach the logs. The test talks plain http to the process itself; the
 * provider's redirect to the public URL is where the browser stops, and it is then replayed.
 */

const PUBLIC_URL = 'https://portcullis.test';
const START = '/api/v1/auth/sso/acme/start';

type SetCookie = { name: string; value: string; attributes: Map<string, string> };

function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
  const eq = pair.indexOf('=');
  return {
    name: pair.slice(0, eq),
    value: pair.slice(eq + 1),
    attributes: new Map(
      attributes.map((attribute) => {
        const [key = '', ...rest] = attribute.split('=');
        return [key.toLowerCase(), rest.join('=')];
      }),
    ),
  };
}

/** What a browser demands of a __Host- cookie before it keeps it (RFC 6265bis 4.1.3.2). */
function assertHostCookie(cookie: SetCookie) {
  assert.match(cookie.name, /^__Host-/);
  assert.equal(cookie.attributes.get('path'), '/', `${cookie.name} Path`);
  assert.ok(cookie.attributes.has('secure'), `${cookie.name} Secure`);
  assert.ok(!cookie.attributes.has('domain'), `${cookie.name} has a Domain`);
  assert.ok(cookie.attributes.has('httponly'), `${cookie.name} HttpOnly`);
}

/** The admin signed in; over https the session cookie is __Host-portcullis_session. */
async function signInAdmin(service: Service): Promise<AdminApi & { post: AdminApi['put'] }> {
  const response = await fetch(`${service.url()}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ org: service.org, email: ADMIN.email, password: ADMIN.password }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  const session = response.headers
    .getSetCookie()
    .map(parseSetCookie)
    .find((cookie) => cookie.name === '__Host-portcullis_session');
  assert.ok(session?.value, 'no __Host- session cookie');
  service.secrets.add(session.value);
  const call = (method: string) => (path: string, body: unknown) =>
    fetch(`${service.url()}/api/v1${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        cookie: `__Host-portcullis_session=${session.value}`,
      },
      body: JSON.stringify(body),
    });
  return { put: call('PUT'), post: call('POST') };
}

test('SSO behind an https public URL', async (t) => {
  const service = await Service.start(t, {
    env: { ...SSO_TEST_ENV, PORTCULLIS_BASE_URL: PUBLIC_URL },
  });
  const base = service.url();
  const admin = await signInAdmin(service);
  const idp = await connectIdentityProvider(t, admin, PUBLIC_URL);
  const user = await addSsoUser(admin, idp);
  /** Code and state values the provider handed to the browser. */
  const handedBack: string[] = [];

  /** An SSO journey up to the provider's redirect to the public URL, then that redirect replayed. */
  const signIn = async (options: { cancel?: boolean } = {}) => {
    const browser = httpBrowser(base);
    const out = await browser.visit(START, {
      user: { account: user.account, ...options },
      stopAt: (url) => url.origin === PUBLIC_URL,
    });
    const callback = out.stoppedAt;
    assert.equal(callback?.pathname, CALLBACK_PATH, describeJourney(out));
    for (const name of ['code', 'state']) {
      const value = callback.searchParams.get(name);
      if (value) {
        handedBack.push(value);
        service.secrets.add(value);
      }
    }
    const back = await browser.visit(`${callback.pathname}${callback.search}`);
    return { start: out.hops[0]!, back, browser };
  };

  await t.test('/start sets the state and return cookies as __Host- cookies', async () => {
    const start = await fetch(`${base}${START}?return_to=%2Fadmin%2Fusers`, {
      redirect: 'manual',
    });
    assert.equal(start.status, 302);
    const cookies = start.headers.getSetCookie().map(parseSetCookie);
    assert.deepEqual(
      cookies.map((cookie) => cookie.name),
      ['__Host-portcullis_sso_state', '__Host-portcullis_sso_return'],
    );
    for (const cookie of cookies) {
      assertHostCookie(cookie);
      assert.equal(cookie.attributes.get('samesite'), 'Lax');
    }
  });

  await t.test('a whole sign-in works with them, and the callback clears them', async () => {
    const { back, browser } = await signIn();
    assert.equal(back.landed?.href, `${base}/`, describeJourney(back));
    const cookies = back.hops[0]!.setCookies.map(parseSetCookie);
    const byName = new Map(cookies.map((cookie) => [cookie.name, cookie]));
    for (const name of ['__Host-portcullis_sso_state', '__Host-portcullis_sso_return']) {
      const cleared = byName.get(name);
      assert.ok(cleared, `${name} is not cleared`);
      assert.equal(cleared.value, '');
      assertHostCookie(cleared);
    }
    const session = byName.get('__Host-portcullis_session');
    assert.ok(session?.value);
    service.secrets.add(session.value);
    assertHostCookie(session);
    assert.equal(browser.cookie('__Host-portcullis_sso_state'), undefined);
    const me = await fetch(`${base}/api/v1/me`, {
      headers: { cookie: `__Host-portcullis_session=${session.value}` },
    });
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { user: { email: string } }).user.email, user.email);
  });

  await t.test('the logs of sign-ins, done or cancelled, hold neither code nor state', async () => {
    const cancelled = await signIn({ cancel: true });
    assert.equal(cancelled.back.landed?.pathname, '/sign-in');
    assert.equal(cancelled.back.landed?.searchParams.get('sso_error'), 'sso_failed');
    // One code and one state for the sign-in above, one state for the cancelled one.
    assert.equal(handedBack.length, 3);

    const logs = service.logs();
    for (const value of handedBack) {
      assert.ok(!logs.includes(value), 'a code or state is in the logs');
      assert.ok(!logs.includes(encodeURIComponent(value)), 'a code or state is in the logs');
    }
    // The callbacks were logged all the same, with their path and the secrets' places kept.
    const callbacks = logs
      .split('\n')
      .flatMap((line) => {
        try {
          return [(JSON.parse(line) as { req?: { url?: string } }).req?.url];
        } catch {
          return [];
        }
      })
      .filter((url): url is string => url?.startsWith(`${CALLBACK_PATH}?`) ?? false)
      .map((url) => new URL(url, PUBLIC_URL).searchParams);
    assert.equal(callbacks.length, 2);
    assert.equal(callbacks[0]?.get('code'), '[redacted]');
    assert.equal(callbacks[0]?.get('state'), '[redacted]');
    assert.equal(callbacks[1]?.get('error'), 'access_denied');
    assert.equal(callbacks[1]?.get('state'), '[redacted]');
  });
});

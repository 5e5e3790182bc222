import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOSTILE_RETURN_PATHS } from '../helpers/hostile-return-paths.ts';
import { Service } from './harness.ts';
import {
  CALLBACK_PATH,
  SSO_TEST_ENV,
  addSsoUser,
  connectIdentityProvider,
  describeJourney,
  httpBrowser,
} from './sso-helpers.ts';

/*
 * Open redirects: whatever `return_to` an attacker links to, the SSO callback sends the browser
 * only to a page of this console, never to another site. Each spelling below is one that a URL
 * parser reads as another host (`//evil.test/…`) once it has removed dot segments, turned
 * backslashes into slashes, dropped tabs and newlines or decoded an escape.
 */

const START = '/api/v1/auth/sso/acme/start';

/** The `name=value` pairs of an answer's Set-Cookie headers, as a Cookie header sends them back. */
function cookiesOf(response: Response): string {
  return response.headers
    .getSetCookie()
    .map((header) => header.split(';')[0])
    .join('; ');
}

async function failedCallbackAfterStart(base: string, returnTo: string): Promise<Response> {
  const start = await fetch(`${base}${START}?return_to=${encodeURIComponent(returnTo)}`, {
    redirect: 'manual',
  });
  assert.equal(start.status, 302, `start with ${JSON.stringify(returnTo)}`);
  // The state cookie is set, but the state that comes back is not it: the callback refuses.
  return fetch(`${base}${CALLBACK_PATH}?code=forged-code&state=forged-state`, {
    headers: { cookie: cookiesOf(start) },
    redirect: 'manual',
  });
}

test('SSO sends the browser back only to pages of the console', async (t) => {
  const service = await Service.start(t, { env: SSO_TEST_ENV });
  const base = service.url();
  const admin = await service.admin();
  const idp = await connectIdentityProvider(t, admin, base);

  await t.test('a failed callback, whatever return_to /start was given', async () => {
    // A page of the console is kept: the rule does not simply throw every return_to away.
    const kept = await failedCallbackAfterStart(base, '/admin/users');
    assert.equal(kept.status, 302);
    assert.equal(kept.headers.get('location'), '/admin/users?sso_error=sso_failed');

    for (const returnTo of HOSTILE_RETURN_PATHS) {
      const callback = await failedCallbackAfterStart(base, returnTo);
      assert.equal(callback.status, 302);
      assert.equal(
        callback.headers.get('location'),
        '/sign-in?sso_error=sso_failed',
        `return_to ${JSON.stringify(returnTo)}`,
      );
    }
  });

  await t.test('a return cookie planted in the browser, not set by /start', async () => {
    for (const returnTo of HOSTILE_RETURN_PATHS) {
      const callback = await fetch(`${base}${CALLBACK_PATH}?code=forged-code&state=forged-state`, {
        headers: { cookie: `portcullis_sso_return=${encodeURIComponent(returnTo)}` },
        redirect: 'manual',
      });
      assert.equal(callback.status, 302);
      assert.equal(
        callback.headers.get('location'),
        '/sign-in?sso_error=sso_failed',
        `return cookie ${JSON.stringify(returnTo)}`,
      );
    }
  });

  await t.test('a successful step-up, whatever return_to /start was given', async () => {
    const user = await addSsoUser(admin, idp);
    const browser = httpBrowser(base);
    const signedIn = await browser.visit(START, { user: { account: user.account } });
    assert.equal(signedIn.landed?.href, `${base}/`, describeJourney(signedIn));
    assert.ok(browser.cookie('portcullis_session'));
    /** A request to a third site is where the browser was sent: it stops there. */
    const elsewhere = (url: URL) => url.origin !== base && url.origin !== idp.issuer;
    const stepUp = (returnTo: string) =>
      browser.visit(`${START}?purpose=step_up&return_to=${encodeURIComponent(returnTo)}`, {
        user: { account: user.account },
        stopAt: elsewhere,
      });

    const kept = await stepUp('/settings/security');
    assert.equal(
      kept.landed?.href,
      `${base}/settings/security?sso=verified`,
      describeJourney(kept),
    );
    for (const returnTo of HOSTILE_RETURN_PATHS) {
      const journey = await stepUp(returnTo);
      assert.equal(journey.stoppedAt, null, `left for ${journey.stoppedAt?.href}`);
      assert.equal(
        journey.landed?.href,
        `${base}/?sso=verified`,
        `return_to ${JSON.stringify(returnTo)}: ${describeJourney(journey)}`,
      );
    }
  });
});

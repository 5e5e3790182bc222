import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Authenticator,
  Portcullis,
  launchBrowser,
  newPolicyWatchedPage,
  skipWithoutBrowser,
} from './harness.ts';

/**
 * The console under the server's own Content-Security-Policy (style-src 'self', no inline
 * anything): every main screen renders, styled, without one violation. Other browser tests bypass
 * the policy to inject axe-core; this one does not.
 */

/** The page's own globals, for code run in the page (the project's types have no DOM). */
type PageGlobals = {
  getComputedStyle(element: unknown): { cursor: string; position: string };
  document: { body: { setAttribute(name: string, value: string): void } };
};

test('the console works under its Content-Security-Policy without a single violation', async (t) => {
  if (skipWithoutBrowser(t)) return;
  const portcullis = await Portcullis.start(t);
  const { admin, url } = portcullis;
  const policy = await portcullis.api('PUT', '/org/mfa/policy', await portcullis.apiSession(), {
    policy: 'enabled',
    sessions: 'keep',
  });
  assert.equal(policy.status, 200, await policy.text());

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page, violations } = await newPolicyWatchedPage(browser);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));

  await page.goto(`${url}/sign-in?org=${admin.org}`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  // The style sheet applies: the button is styled by it, not the browser's default.
  const signInButton = page.getByRole('button', { name: 'Sign in' });
  assert.equal(
    await signInButton.evaluate(
      (element) => (globalThis as unknown as PageGlobals).getComputedStyle(element).cursor,
    ),
    'pointer',
  );
  await page.getByLabel('Email').fill(admin.email);
  await page.getByLabel('Password', { exact: true }).fill(admin.password);
  await signInButton.click();

  await page.waitForURL(/\/admin\/users$/);
  // Connected while the admin has no second factor yet (the API session needs none).
  const idp = await portcullis.connectIdentityProvider(t, await portcullis.apiSession());
  await page.goto(`${url}/settings/security`);
  await page.getByRole('button', { name: 'Enable Authenticator App' }).click();
  await page.waitForURL(/\/enroll\?method=totp$/);
  const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
  await qr.waitFor();
  const drawn = await qr.locator('svg').boundingBox();
  assert.ok(drawn && drawn.width >= 100 && drawn.height >= 100, 'the QR code is drawn');
  const key = (await page.locator('.secret').textContent()) ?? '';
  await page.getByLabel('6-digit code').fill(await new Authenticator(key).nextCode());
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('list', { name: 'Recovery codes' }).waitFor();
  // The codes download as a file made in the page (a blob: link), which the policy leaves alone.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'portcullis-recovery-codes.txt');
  await page.getByLabel('I have saved these codes').check();
  await page.getByRole('button', { name: 'Back to Security' }).click();

  await page.waitForURL(/\/settings\/security$/);
  await page.getByRole('heading', { name: 'Your Verification Methods' }).waitFor();
  // React's style props are applied through the CSSOM, which style-src 'self' allows.
  await page.getByRole('button', { name: 'More actions for Authenticator App' }).click();
  const menu = page.getByRole('menu');
  await menu.waitFor();
  assert.equal(
    await menu.evaluate(
      (element) => (globalThis as unknown as PageGlobals).getComputedStyle(element).position,
    ),
    'absolute',
  );
  await page.keyboard.press('Escape');

  for (const [path, heading] of [
    ['/settings/password', 'Change Password'],
    ['/admin/security', 'Account Settings → Security'],
    ['/admin/sso', 'Single sign-on'],
    ['/admin/audit', 'Audit log'],
    ['/admin/users', 'Users'],
  ] as const) {
    await page.goto(`${url}${path}`);
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
  }
  await page.getByRole('cell', { name: admin.email, exact: true }).waitFor();

  // The SSO sign-in is a link, not a form: form-action 'self' lets it leave for the provider.
  const visitor = await newPolicyWatchedPage(browser);
  await visitor.page.goto(`${url}/sign-in?org=${admin.org}`);
  await visitor.page.getByRole('link', { name: 'Sign in with SSO' }).click();
  await visitor.page.waitForURL((address) => address.origin === idp.issuer);

  assert.deepEqual([...violations, ...visitor.violations], [], 'policy violations in the console');
  assert.deepEqual(errors, [], 'uncaught errors in the console');

  // The watch is live: an inline style attribute set now is refused and reported.
  await page.evaluate(() =>
    (globalThis as unknown as PageGlobals).document.body.setAttribute(
      'style',
      'outline: 1px solid red',
    ),
  );
  // Both watchers see it: the page's event and Chromium's console message.
  const seen = () => [
    violations.some((violation) => violation.startsWith('style-src-attr refused inline')),
    violations.some((violation) => /^Applying inline style violates/.test(violation)),
  ];
  for (let waited = 0; waited < 50 && seen().includes(false); waited += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual(seen(), [true, true], violations.join('\n'));
});

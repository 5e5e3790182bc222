import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { DESKTOP, Portcullis, launchBrowser, newPage, skipWithoutBrowser } from './harness.ts';

/**
 * Acts as the user at the provider's prompts (the test provider answers them as JSON), with the
 * browser context's cookies, until the redirects leave the provider. Answers where they end.
 */
async function signInAtProvider(page: Page, account: string): Promise<URL> {
  let url = new URL(page.url());
  let body = await page.locator('body').innerText();
  for (let step = 0; step < 3 && /^\/interaction\/[\w-]+$/.test(url.pathname); step += 1) {
    const { prompt } = JSON.parse(body) as { prompt: string };
    const answer = await page.request.post(
      `${url.href}/${prompt === 'login' ? 'login' : 'confirm'}`,
      { form: prompt === 'login' ? { login: account, password: 'any password' } : {} },
    );
    url = new URL(answer.url());
    body = await answer.text();
  }
  return url;
}

test('an SSO admin confirms a sensitive change by signing in again at the identity provider', async (t) => {
  if (skipWithoutBrowser(t)) return;
  const portcullis = await Portcullis.start(t);
  const ada = await portcullis.apiSession();
  const idp = await portcullis.connectIdentityProvider(t, ada);
  await portcullis.createUser(ada, {
    email: 'sam@acme.test',
    name: 'Sam Sso',
    role: 'admin',
    sso: true,
  });
  const account = idp.addAccount('sam-at-the-provider', { email: 'sam@acme.test' });

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = await newPage(browser, DESKTOP);
  await page.goto(`${portcullis.url}/api/v1/auth/sso/acme/start`);
  const signedIn = await signInAtProvider(page, account);
  assert.equal(signedIn.origin, portcullis.url, `signed in through SSO: ${signedIn.href}`);

  // A change of the connection asks Sam to sign in at the provider again, naming the change.
  await page.goto(`${portcullis.url}/admin/sso`);
  await page.getByRole('heading', { name: 'Connection' }).waitFor();
  await page.getByRole('button', { name: 'Save' }).click();
  const stepUp = page.getByRole('dialog', { name: 'Verification Required' });
  await stepUp.getByText('Confirm it is you to change the single sign-on connection:').waitFor();
  assert.equal(await stepUp.getByLabel('Verification code').count(), 0, 'no code for SSO users');
  const toProvider = stepUp.getByRole('link', { name: 'Continue with your identity provider' });
  assert.equal(
    await toProvider.getAttribute('href'),
    '/api/v1/auth/sso/acme/start?purpose=step_up&return_to=%2Fadmin%2Fsso',
  );

  await toProvider.click();
  await page.waitForURL((url) => url.origin === idp.issuer);
  const back = await signInAtProvider(page, account);
  assert.equal(`${back.pathname}${back.search}`, '/admin/sso?sso=verified');
  assert.equal(
    idp.authorizationRequests.at(-1)?.searchParams.get('prompt'),
    'login',
    'the provider was asked for a new sign-in, not its session',
  );

  // Back in the console, the same change goes through on the fresh sign-in, once.
  await page.goto(back.href);
  await page.getByRole('heading', { name: 'Connection' }).waitFor();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  assert.equal(await stepUp.count(), 0);
  await page.getByRole('button', { name: 'Save' }).click();
  await stepUp.getByText('Confirm it is you to change the single sign-on connection:').waitFor();
});

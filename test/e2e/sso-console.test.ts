import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestIdentityProvider } from '../helpers/oidc-provider.ts';
import {
  DESKTOP,
  PHONE,
  Portcullis,
  launchBrowser,
  newPage,
  review,
  skipWithoutBrowser,
} from './harness.ts';

test('an admin connects the identity provider from the console, tests it, and the sign-in page then offers SSO', async (t) => {
  if (skipWithoutBrowser(t)) return;
  const portcullis = await Portcullis.start(t);
  const idp = await TestIdentityProvider.start({
    redirectUris: [`${portcullis.url}/api/v1/auth/sso/callback`],
  });
  t.after(() => idp.down());
  const browser = await launchBrowser();
  t.after(() => browser.close());

  const { context, page } = await newPage(browser, DESKTOP);
  await context.addCookies([
    { name: 'portcullis_session', value: await portcullis.apiSession(), url: portcullis.url },
  ]);
  await page.goto(`${portcullis.url}/admin/sso`);
  await page.getByRole('heading', { name: 'Connect an identity provider' }).waitFor();
  // The redirect URI to register at the provider is shown.
  await page.getByText(`${portcullis.url}/api/v1/auth/sso/callback`).waitFor();
  await review(page, 'admin-sso-empty-desktop');

  await page.getByLabel('Issuer URL').fill(idp.issuer);
  await page.getByLabel('Client ID').fill(idp.clientId);
  await page.getByLabel('Client secret').fill(idp.clientSecret);
  await page.getByLabel('Allowed email domains').fill('acme.test');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  await page.getByRole('button', { name: 'Test connection' }).click();
  await page.getByText(`The identity provider answers as ${idp.issuer}.`).waitFor();
  await review(page, 'admin-sso-connected-desktop');

  // The server holds the connection, without ever showing the secret back.
  const admin = await portcullis.apiSession();
  const settings = (await (await portcullis.api('GET', '/org/sso', admin)).json()) as {
    issuer: string;
    allowed_domains: string[];
  };
  assert.equal(settings.issuer, idp.issuer);
  assert.deepEqual(settings.allowed_domains, ['acme.test']);
  assert.equal('client_secret' in settings, false);
  assert.equal(await page.getByLabel('Client secret').inputValue(), '');

  // The sign-in page offers "Sign in with SSO" for this org, pointing at its start route.
  const visitor = await newPage(browser, PHONE);
  await visitor.page.goto(`${portcullis.url}/sign-in?org=acme`);
  const sso = visitor.page.getByRole('link', { name: 'Sign in with SSO' });
  await sso.waitFor();
  assert.equal(await sso.getAttribute('href'), '/api/v1/auth/sso/acme/start');
  await review(visitor.page, 'sign-in-with-sso-phone');

  // A refused SSO sign-in comes back to the sign-in page with its reason.
  await visitor.page.goto(`${portcullis.url}/sign-in?sso_error=sso_account_conflict`);
  await visitor.page.getByText('A password account already uses this email.').waitFor();

  // An org without a connection offers no SSO.
  await visitor.page.goto(`${portcullis.url}/sign-in?org=nobody`);
  await visitor.page.getByLabel('Password').waitFor();
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(await visitor.page.getByRole('link', { name: 'Sign in with SSO' }).count(), 0);
});

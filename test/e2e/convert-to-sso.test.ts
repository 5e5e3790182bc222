import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Locator, Page } from 'playwright-core';
import { postJson, sessionCookieFrom } from '../helpers/process.ts';
import {
  Authenticator,
  CHROMIUM,
  DESKTOP,
  PHONE,
  Portcullis,
  launchBrowser,
  newPage,
  review,
  signedInPage,
  skipWithoutBrowser,
} from './harness.ts';

/**
 * System → Users → "Convert to SSO": an admin turns a password user into an SSO user of the org's
 * identity provider. Each test has a server of its own; the browser is shared by the file.
 */

const MEMBER_PASSWORD = 'member passphrase 1';

let browser: Browser;

before(async () => {
  if (existsSync(CHROMIUM)) browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/** Enrolls an authenticator app through the API; the cookie is the session's after it. */
async function enrollTotp(portcullis: Portcullis, cookie: string) {
  const setup = await portcullis.api('POST', '/me/mfa/totp/setup', cookie, {});
  assert.equal(setup.status, 200, await setup.clone().text());
  const { secret } = (await setup.json()) as { secret: string };
  const authenticator = new Authenticator(secret);
  const confirm = await portcullis.api('POST', '/me/mfa/totp/confirm', cookie, {
    code: await authenticator.nextCode(),
  });
  assert.equal(confirm.status, 200, await confirm.clone().text());
  return { authenticator, cookie: sessionCookieFrom(confirm) ?? cookie };
}

/**
 * Opens System → Users and waits until both the list and the org's SSO connection have been
 * loaded and rendered, so that a missing button is really missing.
 */
async function openUsers(page: Page, portcullis: Portcullis, wait: string): Promise<void> {
  const ssoChecked = page.waitForResponse((r) => r.url() === `${portcullis.url}/api/v1/org/sso`);
  await page.goto(`${portcullis.url}/admin/users`);
  await (await ssoChecked).finished();
  await page.getByRole('cell', { name: wait, exact: true }).waitFor();
  // Two frames: the state set from that answer has been rendered by then.
  await page.evaluate(
    'new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))',
  );
}

function row(page: Page, name: string): Locator {
  return page.locator('tbody tr', { has: page.getByRole('cell', { name, exact: true }) });
}

/** The MFA column of a user's row. */
async function mfaColumn(page: Page, name: string): Promise<string> {
  return (await row(page, name).locator('td').nth(3).innerText()).trim();
}

function convertButton(page: Page, name: string): Locator {
  return page.getByRole('button', { name: `Convert to SSO for ${name}`, exact: true });
}

async function focusedText(page: Page): Promise<string> {
  return page.locator(':focus').innerText();
}

/** A password sign-in through the API, without any session. */
async function signIn(portcullis: Portcullis, email: string, password: string) {
  const response = await postJson(`${portcullis.url}/api/v1/auth/login`, {
    org: portcullis.admin.org,
    email,
    password,
  });
  return { status: response.status, body: (await response.json()) as { error?: string } };
}

describe('System → Users: Convert to SSO', { concurrency: 2 }, () => {
  test('Convert to SSO is offered for password users only once the org has an SSO connection, never for SSO users or the admin’s own row', async (t) => {
    if (skipWithoutBrowser(t)) return;
    const portcullis = await Portcullis.start(t);
    const ada = await portcullis.apiSession();
    await portcullis.createUser(ada, {
      email: 'mia@acme.test',
      name: 'Mia Member',
      password: MEMBER_PASSWORD,
    });
    await portcullis.createUser(ada, { email: 'sam@acme.test', name: 'Sam Sso', sso: true });
    const { page } = await signedInPage(browser, portcullis, ada);

    await openUsers(page, portcullis, 'Mia Member');
    await page.getByRole('button', { name: 'Reset MFA for Mia Member' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /^Convert to SSO/ }).count(), 0);

    await portcullis.connectIdentityProvider(t, ada);
    await openUsers(page, portcullis, 'Mia Member');
    await convertButton(page, 'Mia Member').waitFor();
    assert.equal(await convertButton(page, 'Sam Sso').count(), 0, 'not for an SSO user');
    assert.equal(await convertButton(page, 'Ada Admin').count(), 0, 'not for oneself');
    assert.deepEqual(
      await row(page, 'Mia Member').getByRole('button').allInnerTexts(),
      ['Reset MFA', 'Convert to SSO'],
      'beside Reset MFA',
    );
    await review(page, 'admin-users-convert-desktop');
    await page.setViewportSize(PHONE);
    await review(page, 'admin-users-convert-phone');
  });

  test('an admin converts a password member to SSO: after the confirmation and the step-up the member is listed as SSO, their password no longer signs in and their session is gone', async (t) => {
    if (skipWithoutBrowser(t)) return;
    const portcullis = await Portcullis.start(t);
    // MFA is on (opt-in) and the admin enrolls an authenticator app, so the action asks for a code.
    const spare = await portcullis.apiSession();
    const policy = await portcullis.api('PUT', '/org/mfa/policy', spare, {
      policy: 'enabled',
      sessions: 'invalidate',
    });
    assert.equal(policy.status, 200, await policy.text());
    const unenrolled = await portcullis.apiSession();
    await portcullis.connectIdentityProvider(t, unenrolled);
    await portcullis.createUser(unenrolled, {
      email: 'mia@acme.test',
      name: 'Mia Member',
      password: MEMBER_PASSWORD,
    });
    const mia = await enrollTotp(
      portcullis,
      await portcullis.apiSession('mia@acme.test', MEMBER_PASSWORD),
    );
    const admin = await enrollTotp(portcullis, unenrolled);
    const { page } = await signedInPage(browser, portcullis, admin.cookie);

    await openUsers(page, portcullis, 'Mia Member');
    assert.equal(await mfaColumn(page, 'Mia Member'), 'Enrolled');

    // By keyboard: Cancel has the focus first, Escape closes the dialog and changes nothing.
    await convertButton(page, 'Mia Member').focus();
    await page.keyboard.press('Enter');
    const confirm = page.getByRole('dialog', { name: 'Convert to SSO' });
    await confirm.waitFor();
    assert.equal(await focusedText(page), 'Cancel', 'the safe choice has the focus');
    await page.keyboard.press('Tab');
    assert.equal(await focusedText(page), 'Convert to SSO', 'Tab wraps to the first control');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await focusedText(page), 'Cancel', 'Shift+Tab wraps to the last control');
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'hidden' });
    assert.equal(await focusedText(page), 'Convert to SSO', 'the focus returns to the button');
    assert.equal((await portcullis.api('GET', '/me', mia.cookie)).status, 200, 'not signed out');

    await page.keyboard.press('Enter');
    await confirm.waitFor();
    assert.match(
      await confirm.innerText(),
      /Convert Mia Member to SSO\? Their password, verification methods and recovery codes are removed and they are signed out everywhere\. From now on they sign in through your identity provider\./,
    );
    await review(page, 'admin-users-convert-dialog-desktop');
    await confirm.getByRole('button', { name: 'Convert to SSO' }).click();

    const stepUp = page.getByRole('dialog', { name: 'Verification Required' });
    await stepUp.getByText('Confirm it is you to convert Mia Member to SSO:').waitFor();
    await stepUp.getByLabel('Verification code').fill(await admin.authenticator.nextCode());
    await stepUp.getByRole('button', { name: 'Confirm' }).click();
    await stepUp.waitFor({ state: 'hidden' });
    await confirm.waitFor({ state: 'hidden' });
    await page
      .getByText(
        'Mia Member now signs in through your identity provider. They are signed out everywhere.',
      )
      .waitFor();
    await row(page, 'Mia Member').getByText('MFA at their identity provider').waitFor();
    assert.equal(await mfaColumn(page, 'Mia Member'), 'SSO');
    assert.equal(await convertButton(page, 'Mia Member').count(), 0);

    // Through the API: the old session is gone and the old password signs in no more.
    assert.equal((await portcullis.api('GET', '/me', mia.cookie)).status, 401, 'signed out');
    const withPassword = await signIn(portcullis, 'mia@acme.test', MEMBER_PASSWORD);
    assert.equal(withPassword.status, 401);
    assert.equal(withPassword.body.error, 'invalid_credentials');
    const users = await portcullis.api('GET', '/org/users?mfa=sso', admin.cookie);
    const { users: listed } = (await users.json()) as { users: { email: string; sso: boolean }[] };
    assert.deepEqual(
      listed.map((u) => [u.email, u.sso]),
      [['mia@acme.test', true]],
    );
  });
});

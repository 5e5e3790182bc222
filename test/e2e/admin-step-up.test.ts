import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postJson, sessionCookieFrom } from '../helpers/process.ts';
import {
  Authenticator,
  Portcullis,
  launchBrowser,
  signedInPage,
  skipWithoutBrowser,
} from './harness.ts';

/*
 * The console's side of two admin changes that an attack showed must not pass quietly: adding an
 * admin asks for the admin's second factor, and turning off a method that leaves users with
 * nothing to verify with says how many first, then asks for it.
 */

const MEMBER_PASSWORD = 'member passphrase 42';

/** A member whose only method is email and who has spent every recovery code. */
async function emailOnlyMemberWithoutCodes(portcullis: Portcullis, adminCookie: string) {
  const email = 'mia@acme.test';
  await portcullis.createUser(adminCookie, {
    email,
    name: 'Mia Member',
    password: MEMBER_PASSWORD,
  });
  const cookie = await portcullis.apiSession(email, MEMBER_PASSWORD);
  const sent = await portcullis.outboxCount();
  const setup = await portcullis.api('POST', '/me/mfa/email/setup', cookie, {});
  assert.equal(setup.status, 202, await setup.text());
  const code = await portcullis.emailedCode(email, sent);
  const confirmed = await portcullis.api('POST', '/me/mfa/email/confirm', cookie, { code });
  const { recovery_codes: codes } = (await confirmed.json()) as { recovery_codes: string[] };
  for (const recoveryCode of codes) {
    const signIn = await postJson(`${portcullis.url}/api/v1/auth/login`, {
      org: 'acme',
      email,
      password: MEMBER_PASSWORD,
    });
    const pending = sessionCookieFrom(signIn)!;
    const verified = await postJson(
      `${portcullis.url}/api/v1/auth/mfa/verify`,
      { method: 'recovery_code', code: recoveryCode },
      pending,
    );
    assert.equal(verified.status, 200, await verified.text());
  }
}

test('the console asks for a step-up to add an admin, and warns before stranding users', async (t) => {
  if (skipWithoutBrowser(t)) return;
  const portcullis = await Portcullis.start(t);
  // Turning MFA on sends the acting session to enrollment: a spare one does it.
  const spare = await portcullis.apiSession();
  const policy = await portcullis.api('PUT', '/org/mfa/policy', spare, {
    policy: 'enabled',
    sessions: 'keep',
  });
  assert.equal(policy.status, 200, await policy.text());
  let ada = await portcullis.apiSession();
  const setup = await portcullis.api('POST', '/me/mfa/totp/setup', ada, {});
  const { secret } = (await setup.json()) as { secret: string };
  const authenticator = new Authenticator(secret);
  const confirm = await portcullis.api('POST', '/me/mfa/totp/confirm', ada, {
    code: await authenticator.nextCode(),
  });
  assert.equal(confirm.status, 200, await confirm.text());
  ada = sessionCookieFrom(confirm) ?? ada;
  await emailOnlyMemberWithoutCodes(portcullis, ada);

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = await signedInPage(browser, portcullis, ada);

  await t.test('adding an admin asks for a verification code', async () => {
    await page.goto(`${portcullis.url}/admin/users`);
    await page.getByRole('button', { name: 'Add user' }).click();
    const add = page.getByRole('dialog', { name: 'Add user' });
    await add.getByLabel('Name').fill('Nina New');
    await add.getByLabel('Email').fill('nina@acme.test');
    await add.getByLabel('Role').selectOption('admin');
    await add.getByLabel('Initial password').fill('nina passphrase 42');
    await add.getByRole('button', { name: 'Add user' }).click();
    const stepUp = page.getByRole('dialog', { name: 'Verification Required' });
    await stepUp.getByText('Confirm it is you to add Nina New as an admin:').waitFor();
    await stepUp.getByLabel('Verification code').fill(await authenticator.nextCode());
    await stepUp.getByRole('button', { name: 'Confirm' }).click();
    await add.waitFor({ state: 'hidden' });
    const users = await portcullis.api('GET', '/org/users', ada);
    const listed = (await users.json()) as { users: { email: string; role: string }[] };
    assert.deepEqual(
      listed.users.filter((u) => u.email === 'nina@acme.test').map((u) => u.role),
      ['admin'],
    );
  });

  await t.test('turning email off says one user is left without a method', async () => {
    await page.goto(`${portcullis.url}/admin/security`);
    await page.getByRole('switch', { name: 'Email' }).uncheck();
    await page.getByRole('button', { name: 'Save methods' }).click();
    const warning = page.getByRole('dialog', { name: 'Turn off a method?' });
    await warning.getByText(/1 user has no other way to verify/).waitFor();
    await warning.getByRole('button', { name: 'Turn off anyway' }).click();
    const stepUp = page.getByRole('dialog', { name: 'Verification Required' });
    await stepUp.getByLabel('Verification code').fill(await authenticator.nextCode());
    await stepUp.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Verification methods saved.').waitFor();
    const methods = await portcullis.api('GET', '/org/mfa', ada);
    assert.deepEqual(((await methods.json()) as { methods: unknown }).methods, {
      totp: true,
      email: false,
    });
  });
});

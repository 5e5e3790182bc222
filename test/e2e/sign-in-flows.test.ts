import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  Authenticator,
  DESKTOP,
  PHONE,
  Portcullis,
  fileScope,
  launchBrowser,
  newPage,
  review,
  skipWithoutBrowser,
} from './harness.ts';
import {
  ServerProcess,
  makeTempDir,
  postJson,
  removeDir,
  sessionCookieFrom,
} from '../helpers/process.ts';

/**
 * The pages before the console: first-run setup, sign-in, the MFA challenge, enrollment (app and
 * email), forgot/reset password and the return after an expired session, in Chromium against a
 * real server. One server (org "acme", MFA required) serves every test but the first-run one.
 */

const PASSWORD = 'member passphrase 1';
const MEMBERS = {
  tom: 'tom@acme.test', // enrolls an authenticator app in the browser
  eve: 'eve@acme.test', // enrolls email in the browser
  rita: 'rita@acme.test', // forgets her password
  sam: 'sam@acme.test', // whose session is revoked
  dora: 'dora@acme.test', // has both methods
  otto: 'otto@acme.test', // has only the app, which the org then turns off
};

/** What the file shares (the browser, the shared server), stopped once at the end. */
const fileShared = fileScope();

let browserPromise: Promise<Browser> | undefined;
function browser(): Promise<Browser> {
  browserPromise ??= launchBrowser(fileShared);
  return browserPromise;
}

type Shared = { portcullis: Portcullis; adminCookie: string; adminCodes: string[] };
let sharedPromise: Promise<Shared> | undefined;

/** The shared server: members created, then MFA required (the admin enrolls by email via API). */
function shared(): Promise<Shared> {
  sharedPromise ??= (async () => {
    const portcullis = await Portcullis.start(fileShared);
    const admin = await portcullis.apiSession();
    for (const [name, email] of Object.entries(MEMBERS)) {
      await portcullis.createUser(admin, { email, name: capitalize(name), password: PASSWORD });
    }
    const policy = await portcullis.api('PUT', '/org/mfa/policy', admin, {
      policy: 'required',
      sessions: 'keep',
    });
    assert.equal(policy.status, 200, await policy.clone().text());
    // The admin's own session now has to enroll before any admin call.
    const enrolled = await enrollByEmail(
      portcullis,
      sessionCookieFrom(policy)!,
      portcullis.admin.email,
    );
    return { portcullis, adminCookie: enrolled.cookie, adminCodes: enrolled.recoveryCodes };
  })();
  return sharedPromise;
}

function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Through the API: the email method for a session in enrollment → a full session, 10 codes. */
async function enrollByEmail(portcullis: Portcullis, cookie: string, email: string) {
  const sent = await portcullis.api('POST', '/me/mfa/email/setup', cookie, {});
  assert.equal(sent.status, 202, await sent.clone().text());
  const code = await portcullis.emailedCode(email);
  const confirmed = await portcullis.api('POST', '/me/mfa/email/confirm', cookie, { code });
  assert.equal(confirmed.status, 200, await confirmed.clone().text());
  const body = (await confirmed.json()) as { recovery_codes: string[] };
  return { cookie: sessionCookieFrom(confirmed)!, recoveryCodes: body.recovery_codes };
}

async function memberEnrolledByEmail(portcullis: Portcullis, email: string) {
  return enrollByEmail(portcullis, await portcullis.apiSession(email, PASSWORD), email);
}

/** Through the API: the authenticator app for a session in enrollment. */
async function enrollByApp(portcullis: Portcullis, email: string) {
  const cookie = await portcullis.apiSession(email, PASSWORD);
  const setup = await portcullis.api('POST', '/me/mfa/totp/setup', cookie, {});
  assert.equal(setup.status, 200, await setup.clone().text());
  const { secret } = (await setup.json()) as { secret: string };
  const app = new Authenticator(secret);
  const confirmed = await portcullis.api('POST', '/me/mfa/totp/confirm', cookie, {
    code: await app.nextCode(),
  });
  assert.equal(confirmed.status, 200, await confirmed.clone().text());
  const body = (await confirmed.json()) as { recovery_codes: string[] };
  return { cookie: sessionCookieFrom(confirmed)!, recoveryCodes: body.recovery_codes, app };
}

type MeBody = {
  user: { email: string; role: string; org: { slug: string } };
  session: { status: string };
  mfa: { methods: { type: string }[]; recovery_codes_remaining: number };
};

/** The browser's own session, as the server at `base` sees it. */
async function browserMe(base: string, context: BrowserContext) {
  const cookie = await browserCookie(context);
  const response = await fetch(`${base}/api/v1/me`, {
    headers: { cookie: `portcullis_session=${cookie}` },
  });
  return { status: response.status, me: response.ok ? ((await response.json()) as MeBody) : null };
}

async function browserCookie(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === 'portcullis_session');
  assert.ok(cookie, 'the browser holds a session cookie');
  return cookie.value;
}

/** The outbox's file names now, to wait for a message sent after this moment. */
async function outboxNow(portcullis: Portcullis): Promise<Set<string>> {
  const outbox = join(portcullis.dataDir, 'outbox');
  return new Set(existsSync(outbox) ? await readdir(outbox) : []);
}

/** The first message to `to` that is not in `before` and matches `pattern`. */
async function newMail(
  portcullis: Portcullis,
  to: string,
  before: Set<string>,
  pattern: RegExp,
): Promise<RegExpMatchArray> {
  const outbox = join(portcullis.dataDir, 'outbox');
  for (let attempt = 0; attempt < 100; attempt += 1) {
    for (const file of existsSync(outbox) ? (await readdir(outbox)).sort() : []) {
      if (before.has(file)) continue;
      const text = await readFile(join(outbox, file), 'utf8');
      const match = text.startsWith(`To: ${to}\n`) ? pattern.exec(text) : null;
      if (match) return match;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no new mail to ${to} matching ${pattern}`);
}

/** axe-core and a screenshot of the screen at desktop width, then at 375 px. */
async function reviewBoth(page: Page, name: string): Promise<void> {
  await review(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  await review(page, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
}

/** A fresh browser context; the test fails if the console throws an uncaught error in it. */
async function openPage(t: TestContext): Promise<{ context: BrowserContext; page: Page }> {
  const opened = await newPage(await browser());
  const errors: string[] = [];
  opened.page.on('pageerror', (error) => errors.push(error.message));
  t.after(async () => {
    await opened.context.close();
    assert.deepEqual(errors, [], 'uncaught errors in the console');
  });
  return opened;
}

async function fillSignIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signIn(page: Page, base: string, email: string, password = PASSWORD) {
  await page.goto(`${base}/sign-in?org=acme`);
  await fillSignIn(page, email, password);
}

async function useRecoveryCode(page: Page, code: string): Promise<void> {
  await page.getByRole('button', { name: 'Use a recovery code' }).click();
  await page.getByLabel('Recovery code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
}

async function signOutOfConsole(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/sign-in$/);
}

test('first run: the setup link creates the org and its admin, who lands signed in', async (t) => {
  if (skipWithoutBrowser(t)) return;
  const dataDir = await makeTempDir('portcullis-e2e-setup-');
  const server = await ServerProcess.start({ dataDir });
  t.after(async () => {
    await server.stop();
    await removeDir(dataDir);
  });
  const [link] = await server.waitForOutput(/http:\/\/localhost:\d+\/setup#token=[A-Za-z0-9_-]+/);
  const base = server.baseUrl;

  // A link with a wrong token is refused without using up the real one.
  const wrong = await openPage(t);
  await wrong.page.goto(`${base}/setup#token=not-the-token`);
  await wrong.page.getByLabel('Organization name').fill('Globex');
  await wrong.page.getByLabel('Your name').fill('Grace Admin');
  await wrong.page.getByLabel('Email').fill('grace@globex.test');
  await wrong.page.getByLabel('Password').fill('globex admin passphrase');
  await wrong.page.getByRole('button', { name: 'Create organization' }).click();
  await wrong.page.getByText('This setup link is not valid').waitFor();

  const { context, page } = await openPage(t);
  await page.goto(link!);
  await page.getByRole('heading', { name: 'Create your organization' }).waitFor();
  await page.getByLabel('Organization name').waitFor();
  await reviewBoth(page, 'setup');

  // Too short a password is caught before the server is asked.
  await page.getByLabel('Organization name').fill('Globex Corporation');
  assert.equal(await page.getByLabel('Slug').inputValue(), 'globex-corporation');
  await page.getByLabel('Slug').fill('globex');
  await page.getByLabel('Your name').fill('Grace Admin');
  await page.getByLabel('Email').fill('grace@globex.test');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create organization' }).click();
  await page.getByText('Use at least 8 characters.').waitFor();
  await page.getByLabel('Password').fill('globex admin passphrase');
  await page.getByRole('button', { name: 'Create organization' }).click();

  await page.waitForURL(/\/admin\/users$/);
  const { me } = await browserMe(base, context);
  assert.equal(me?.user.email, 'grace@globex.test');
  assert.equal(me?.user.role, 'admin');
  assert.equal(me?.user.org.slug, 'globex');
  assert.equal(me?.session.status, 'authenticated');
  const status = (await (await fetch(`${base}/api/v1/setup`)).json()) as { open: boolean };
  assert.equal(status.open, false);
  const login = await postJson(`${base}/api/v1/auth/login`, {
    org: 'globex',
    email: 'grace@globex.test',
    password: 'globex admin passphrase',
  });
  assert.equal(login.status, 200);

  // The link is spent: opening it again says setup is done and points to sign-in.
  const again = await openPage(t);
  await again.page.goto(link!);
  await again.page.getByText('Setup is complete').waitFor();
  await again.page.getByRole('link', { name: 'Go to sign in' }).click();
  await again.page.waitForURL(/\/sign-in$/);
  // This browser signed in as globex's admin: the org is remembered for next time.
  await signOutOfConsole(page);
  assert.equal(await page.getByLabel('Organization').inputValue(), 'globex');
});

test('under Required a member enrolls an authenticator app, then signs in with it and with a recovery code once', async (t) => {
  if (skipWithoutBrowser(t)) return;
  const { portcullis } = await shared();
  const { context, page } = await openPage(t);

  await page.goto(`${portcullis.url}/sign-in?org=acme`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await reviewBoth(page, 'sign-in');

  // A wrong password: the server's message, the password emptied for another try.
  await fillSignIn(page, MEMBERS.tom, 'not the password');
  await page.getByText('The organization, email or password is incorrect.').waitFor();
  assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '');
  await reviewBoth(page, 'sign-in-error');

  await fillSignIn(page, MEMBERS.tom);
  await page.waitForURL(/\/enroll$/);
  await page.getByText('Choose a verification method').waitFor();
  await reviewBoth(page, 'enroll-choose');
  await page.getByLabel('Authenticator App').check();
  await page.getByRole('button', { name: 'Continue' }).click();

  const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
  await qr.waitFor();
  assert.match((await qr.innerHTML()) ?? '', /<svg/);
  const key = (await page.locator('.secret').textContent()) ?? '';
  assert.match(key, /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/, 'the key is shown in groups of 4');
  await reviewBoth(page, 'enroll-qr');

  const app = new Authenticator(key);
  await page.getByLabel('6-digit code').fill(await app.nextCode());
  await page.getByRole('button', { name: 'Confirm' }).click();
  const list = page.getByRole('list', { name: 'Recovery codes' });
  await list.waitFor();
  const codes = await list.getByRole('listitem').allTextContents();
  assert.equal(codes.length, 10);
  await reviewBoth(page, 'recovery-codes');
  const continueButton = page.getByRole('button', { name: 'Continue' });
  assert.equal(await continueButton.isDisabled(), true, 'not before the codes are saved');
  await page.getByLabel('I have saved these codes').check();
  await continueButton.click();
  await page.waitForURL(/\/settings\/security$/);
  let state = await browserMe(portcullis.url, context);
  assert.equal(state.me?.session.status, 'authenticated');
  assert.deepEqual(
    state.me?.mfa.methods.map((m) => m.type),
    ['totp'],
  );
  assert.equal(state.me?.mfa.recovery_codes_remaining, 10);

  // Next sign-in: the MFA challenge asks for the app's code (the org is remembered).
  await signOutOfConsole(page);
  assert.equal(await page.getByLabel('Organization').inputValue(), 'acme');
  await fillSignIn(page, MEMBERS.tom);
  await page.waitForURL(/\/verify$/);
  await page.getByText('Enter the 6-digit code from your authenticator app.').waitFor();
  await reviewBoth(page, 'verify');
  await page.getByLabel('Verification code').fill(await app.nextCode());
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL(/\/settings\/security$/);
  state = await browserMe(portcullis.url, context);
  assert.equal(state.me?.session.status, 'authenticated');

  // A recovery code works once.
  await signOutOfConsole(page);
  await fillSignIn(page, MEMBERS.tom);
  await page.waitForURL(/\/verify$/);
  await useRecoveryCode(page, codes[0]!);
  await page.waitForURL(/\/settings\/security$/);
  state = await browserMe(portcullis.url, context);
  assert.equal(state.me?.mfa.recovery_codes_remaining, 9);

  await signOutOfConsole(page);
  await fillSignIn(page, MEMBERS.tom);
  await page.waitForURL(/\/verify$/);
  await useRecoveryCode(page, codes[0]!);
  await page.getByText('That code is not right, or it has expired.').waitFor();
  assert.match(page.url(), /\/verify$/);
  state = await browserMe(portcullis.url, context);
  assert.equal(state.me?.session.status, 'mfa_required');
});

test('a member enrolls email, signs in with an emailed code, then adds the app from settings after verifying', async (t) => {
  if (skipWithoutBrowser(t)) return;
  const { portcullis } = await shared();
  const { context, page } = await openPage(t);

  await signIn(page, portcullis.url, MEMBERS.eve);
  await page.waitForURL(/\/enroll$/);
  await page.getByLabel('Email', { exact: true }).check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByText(`We sent a 6-digit code to ${MEMBERS.eve}`).waitFor();
  assert.equal(await page.getByRole('button', { name: /Resend in \d+ s/ }).isDisabled(), true);
  await reviewBoth(page, 'enroll-email');
  await page.getByLabel('Verification code').fill(await portcullis.emailedCode(MEMBERS.eve));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('Email is set up.').waitFor();
  const codes = await page
    .getByRole('list', { name: 'Recovery codes' })
    .getByRole('listitem')
    .allTextContents();
  assert.equal(codes.length, 10);
  await page.getByLabel('I have saved these codes').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(/\/settings\/security$/);
  const enrolled = await browserMe(portcullis.url, context);
  assert.deepEqual(
    enrolled.me?.mfa.methods.map((m) => m.type),
    ['email'],
  );

  await signOutOfConsole(page);
  await fillSignIn(page, MEMBERS.eve);
  await page.waitForURL(/\/verify$/);
  const before = await outboxNow(portcullis);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByRole('button', { name: /Resend in \d+ s/ }).waitFor();
  const [, code] = await newMail(portcullis, MEMBERS.eve, before, /verification code is (\d{6})/);
  await page.getByLabel('Verification code').fill(code!);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL(/\/settings\/security$/);
  const signedIn = await browserMe(portcullis.url, context);
  assert.equal(signedIn.me?.session.status, 'authenticated');

  // From settings, a second method needs a fresh verification first, then returns to Security.
  await page.goto(`${portcullis.url}/enroll?method=totp`);
  const dialog = page.getByRole('dialog', { name: 'Verification Required' });
  await dialog.getByRole('button', { name: 'Use a recovery code' }).click();
  await dialog.getByLabel('Recovery code').fill(codes[0]!);
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
  const app = new Authenticator((await page.locator('.secret').textContent()) ?? '');
  await page.getByLabel('6-digit code').fill(await app.nextCode());
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByText('Authenticator App is set up.').waitFor();
  await page.getByLabel('I have saved these codes').check();
  await page.getByRole('button', { name: 'Back to Security' }).click();
  await page.waitForURL(/\/settings\/security$/);
  const both = await browserMe(portcullis.url, context);
  assert.deepEqual(both.me?.mfa.methods.map((m) => m.type).sort(), ['email', 'totp']);
});

test('forgot password: the emailed link sets a new password, and sign-in still asks for the second factor', async (t) => {
  if (skipWithoutBrowser(t)) return;
  const { portcullis } = await shared();
  const rita = await memberEnrolledByEmail(portcullis, MEMBERS.rita);
  const { context, page } = await openPage(t);

  await page.goto(`${portcullis.url}/sign-in?org=acme`);
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await page.waitForURL(/\/forgot-password\?org=acme$/);
  assert.equal(await page.getByLabel('Organization').inputValue(), 'acme');
  await reviewBoth(page, 'forgot-password');

  // An unknown address gets the very same answer as a real one.
  await page.getByLabel('Email').fill('nobody@acme.test');
  await page.getByRole('button', { name: 'Email me a reset link' }).click();
  const unknownText = await page.getByRole('status').textContent();
  await page.getByRole('link', { name: 'Back to sign in' }).click();
  await page.getByRole('link', { name: 'Forgot password?' }).click();

  const before = await outboxNow(portcullis);
  await page.getByLabel('Email').fill(MEMBERS.rita);
  await page.getByRole('button', { name: 'Email me a reset link' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  const knownText = await page.getByRole('status').textContent();
  assert.equal(
    knownText?.replace(MEMBERS.rita, 'ADDRESS'),
    unknownText?.replace('nobody@acme.test', 'ADDRESS'),
  );
  await reviewBoth(page, 'forgot-password-sent');

  const [link] = await newMail(
    portcullis,
    MEMBERS.rita,
    before,
    /http:\/\/localhost:\d+\/reset-password#token=[A-Za-z0-9_-]+/,
  );
  await page.goto(link!);
  await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
  await reviewBoth(page, 'reset-password');
  const newPassword = 'rita new passphrase';
  await page.getByLabel('New password', { exact: true }).fill(newPassword);
  await page.getByLabel('Confirm new password').fill('something else');
  await page.getByRole('button', { name: 'Set new password' }).click();
  await page.getByText('The two passwords are not the same.').waitFor();
  await page.getByLabel('Confirm new password').fill(newPassword);
  await page.getByRole('button', { name: 'Set new password' }).click();
  await page.getByText('your second factor is still asked at sign-in').waitFor();
  await reviewBoth(page, 'reset-password-done');

  // Server side: the old password is refused, the API session from before is gone.
  const old = await postJson(`${portcullis.url}/api/v1/auth/login`, {
    org: 'acme',
    email: MEMBERS.rita,
    password: PASSWORD,
  });
  assert.equal(old.status, 401);
  assert.equal((await portcullis.api('GET', '/me', rita.cookie)).status, 401);

  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.waitForURL(/\/sign-in\?org=acme$/);
  await fillSignIn(page, MEMBERS.rita, newPassword);
  await page.waitForURL(/\/verify$/);
  assert.equal((await browserMe(portcullis.url, context)).me?.session.status, 'mfa_required');
  await useRecoveryCode(page, rita.recoveryCodes[0]!);
  await page.waitForURL(/\/settings\/security$/);
  assert.equal((await browserMe(portcullis.url, context)).me?.session.status, 'authenticated');
});

test('a session ended on the server returns to sign-in with a note, and back to the page afterwards', async (t) => {
  if (skipWithoutBrowser(t)) return;
  const { portcullis } = await shared();
  const sam = await memberEnrolledByEmail(portcullis, MEMBERS.sam);
  const { context, page } = await openPage(t);

  // A first visit is sent to sign-in, without talk of an expired session.
  await page.goto(`${portcullis.url}/settings/password`);
  await page.waitForURL(/\/sign-in\?/);
  await page.getByLabel('Email').waitFor();
  assert.equal(await page.getByText('Your session expired').count(), 0);

  await signIn(page, portcullis.url, MEMBERS.sam);
  await page.waitForURL(/\/verify/);
  await useRecoveryCode(page, sam.recoveryCodes[0]!);
  await page.waitForURL(/\/settings\/security$/);
  await page.getByRole('link', { name: 'Change Password' }).click();
  await page.waitForURL(/\/settings\/password$/);

  const ended = await portcullis.api('POST', '/auth/logout', await browserCookie(context));
  assert.equal(ended.status, 204);
  await page.reload();
  await page.waitForURL(/\/sign-in\?expired=1&next=%2Fsettings%2Fpassword$/);
  await page.getByText('Your session expired. Sign in again.').waitFor();
  await reviewBoth(page, 'sign-in-expired');

  await fillSignIn(page, MEMBERS.sam);
  await page.waitForURL(/\/verify\?next=/);
  await useRecoveryCode(page, sam.recoveryCodes[1]!);
  await page.waitForURL(/\/settings\/password$/);
  assert.equal((await browserMe(portcullis.url, context)).me?.session.status, 'authenticated');

  // A `next` that leaves the site is ignored: home instead.
  await signOutOfConsole(page);
  await page.goto(`${portcullis.url}/sign-in?org=acme&next=${encodeURIComponent('//evil.test/')}`);
  await fillSignIn(page, MEMBERS.sam);
  await page.waitForURL(/\/verify$/);
  await useRecoveryCode(page, sam.recoveryCodes[2]!);
  await page.waitForURL(/\/settings\/security$/);
});

test('the MFA challenge offers a choice of two methods, works by keyboard alone, and offers only Recovery Code when the org turned the method off', async (t) => {
  if (skipWithoutBrowser(t)) return;
  const { portcullis, adminCookie, adminCodes } = await shared();

  // Dora: email first, then the app added with a step-up (a recovery code).
  const dora = await memberEnrolledByEmail(portcullis, MEMBERS.dora);
  const setup = await portcullis.api('POST', '/me/mfa/totp/setup', dora.cookie, {
    verification: { method: 'recovery_code', code: dora.recoveryCodes[0] },
  });
  assert.equal(setup.status, 200, await setup.clone().text());
  const doraApp = new Authenticator(((await setup.json()) as { secret: string }).secret);
  const added = await portcullis.api('POST', '/me/mfa/totp/confirm', dora.cookie, {
    code: await doraApp.nextCode(),
  });
  assert.equal(added.status, 200, await added.clone().text());
  const doraCodes = ((await added.json()) as { recovery_codes: string[] }).recovery_codes;

  const { context, page } = await openPage(t);
  await page.goto(`${portcullis.url}/sign-in?org=acme`);
  // Keyboard only: the email field has focus (the org is filled in), Tab and Enter do the rest.
  await page.getByLabel('Email').waitFor();
  await page.keyboard.type(MEMBERS.dora);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/verify$/);
  await page.getByRole('group', { name: 'Verify with' }).waitFor();
  const app = page.getByRole('radio', { name: 'Authenticator App' });
  const email = page.getByRole('radio', { name: 'Email' });
  assert.equal(
    Number(await app.isChecked()) + Number(await email.isChecked()),
    1,
    'one of the two methods is chosen',
  );
  await reviewBoth(page, 'verify-choice');

  await tabTo(page, 'Use a recovery code');
  await page.keyboard.press('Enter');
  await tabTo(page, 'Recovery code');
  await page.keyboard.type(doraCodes[0]!);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/settings\/security$/);
  assert.equal((await browserMe(portcullis.url, context)).me?.session.status, 'authenticated');
  await context.clearCookies();

  // Otto has only the app; the org turns it off: only Recovery Code is left to him.
  const otto = await enrollByApp(portcullis, MEMBERS.otto);
  const off = await portcullis.api('PUT', '/org/mfa/methods', adminCookie, {
    totp: false,
    email: true,
    verification: { method: 'recovery_code', code: adminCodes[0] },
  });
  assert.equal(off.status, 200, await off.clone().text());
  t.after(async () => {
    const on = await portcullis.api('PUT', '/org/mfa/methods', adminCookie, {
      totp: true,
      email: true,
      verification: { method: 'recovery_code', code: adminCodes[1] },
    });
    assert.equal(on.status, 200, await on.clone().text());
  });

  await signIn(page, portcullis.url, MEMBERS.otto);
  await page.waitForURL(/\/verify$/);
  await page.getByText('is available: your verification methods are not enabled').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Use a recovery code' }).count(), 0);
  await reviewBoth(page, 'verify-recovery-only');
  await page.getByLabel('Recovery code').fill(otto.recoveryCodes[0]!);
  await page.getByRole('button', { name: 'Verify' }).click();
  // Required, and his only method is off: he must now set up one the org allows.
  await page.waitForURL(/\/enroll$/);
  await page.getByText('Receive codes via email').waitFor();
  assert.equal(await page.getByRole('radio').count(), 0, 'one method left: no choice to make');
  assert.equal(
    (await browserMe(portcullis.url, context)).me?.session.status,
    'enrollment_required',
  );
});

/** Presses Tab until the focused element is named `name` (a label or a button's text). */
async function tabTo(page: Page, name: string): Promise<void> {
  for (let presses = 0; presses < 25; presses += 1) {
    await page.keyboard.press('Tab');
    // The focused element's label, or its text (a button's name).
    const focused = await page.evaluate<string>(
      `(() => { const e = document.activeElement; const label = e?.labels?.[0]?.textContent;
        return label || e?.textContent || ''; })()`,
    );
    if (focused.trim() === name) return;
  }
  throw new Error(`Tab never reached "${name}"`);
}

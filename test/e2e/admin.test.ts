import { existsSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { sessionCookieFrom } from '../helpers/process.ts';
import {
  Authenticator,
  CHROMIUM,
  DESKTOP,
  PHONE,
  Portcullis,
  allStarted,
  fileScope,
  launchBrowser,
  newPage,
  review,
  signedInPage,
  skipWithoutBrowser,
} from './harness.ts';

/**
 * The org admin's screens end to end: Account Settings → Security (the policy with its three-choice
 * and emailed-code dialogs, the allowed methods), System → Users (the MFA column, filter, pages,
 * Add user, Reset MFA) and the Audit log. Browsers sign in through the API and get the session
 * cookie, so these tests do not depend on the sign-in screens.
 *
 * A server takes seconds to boot, so the file boots two at once; each suite walks its flows in
 * order on its own server: one for the org's policy, one for the users and the audit log.
 */

const MEMBER_PASSWORD = 'member passphrase 1';
type Signed = { context: BrowserContext; page: Page };

/** The servers and the browser live as long as the file's tests. */
const shared = fileScope();
let browser: Browser;
let policyServer: Portcullis;
let usersServer: Portcullis;

before(async () => {
  if (!existsSync(CHROMIUM)) return;
  [policyServer, usersServer, browser] = await allStarted([
    Portcullis.start(shared),
    Portcullis.start(shared),
    launchBrowser(shared),
  ]);
});

async function cookieOf(context: BrowserContext, portcullis: Portcullis): Promise<string> {
  const cookie = (await context.cookies(portcullis.url)).find(
    (c) => c.name === 'portcullis_session',
  );
  assert.ok(cookie, 'the browser holds a session cookie');
  return cookie.value;
}

async function getJson<T>(portcullis: Portcullis, path: string, cookie: string) {
  const response = await portcullis.api('GET', path, cookie);
  return { status: response.status, body: (await response.json()) as T };
}

type OrgMfa = {
  policy: string;
  methods: { totp: boolean; email: boolean };
  users_total: number;
  users_enrolled: number;
};

async function orgMfa(portcullis: Portcullis, cookie: string): Promise<OrgMfa> {
  const { status, body } = await getJson<OrgMfa>(portcullis, '/org/mfa', cookie);
  assert.equal(status, 200);
  return body;
}

/** Turns the policy on through a separate admin session (which then has to enroll: unused). */
async function strengthenByApi(
  portcullis: Portcullis,
  policy: 'enabled' | 'required',
  sessions: 'keep' | 'invalidate',
) {
  const spare = await portcullis.apiSession();
  const response = await portcullis.api('PUT', '/org/mfa/policy', spare, { policy, sessions });
  assert.equal(response.status, 200, await response.text());
}

/** Enrolls an authenticator app through the API; the cookie is the session's after it. */
async function enrollTotp(portcullis: Portcullis, cookie: string) {
  const setup = await portcullis.api('POST', '/me/mfa/totp/setup', cookie, {});
  assert.equal(setup.status, 200, await setup.clone().text());
  const { secret } = (await setup.json()) as { secret: string };
  const authenticator = new Authenticator(secret);
  const confirm = await portcullis.api('POST', '/me/mfa/totp/confirm', cookie, {
    code: await authenticator.nextCode(),
  });
  const text = await confirm.text();
  assert.equal(confirm.status, 200, text);
  const { recovery_codes } = JSON.parse(text) as { recovery_codes: string[] };
  return {
    authenticator,
    recoveryCodes: recovery_codes,
    cookie: sessionCookieFrom(confirm) ?? cookie,
  };
}

/** Adds a member with a password and signs them in through the API. */
async function addMember(portcullis: Portcullis, adminCookie: string, email: string, name: string) {
  await portcullis.createUser(adminCookie, { email, name, password: MEMBER_PASSWORD });
  return portcullis.apiSession(email, MEMBER_PASSWORD);
}

/** Polls an assertion until it holds (the page updates when its API calls answer). */
async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** axe + screenshot of the page as it is now, at desktop width and at 375 px. */
async function reviewBothWidths(page: Page, name: string): Promise<void> {
  await review(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  await review(page, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
}

function radio(page: Page, name: string): Locator {
  return page.getByRole('radio', { name, exact: true });
}

async function checkedPolicy(page: Page): Promise<string> {
  for (const name of ['Disabled', 'Enabled', 'Required']) {
    if (await radio(page, name).isChecked()) return name;
  }
  return 'none';
}

async function openSecurity(page: Page, portcullis: Portcullis): Promise<void> {
  await page.goto(`${portcullis.url}/admin/security`);
  await page.getByRole('heading', { name: 'Multi-Factor' }).waitFor();
}

function row(page: Page, name: string): Locator {
  return page.locator('tbody tr', { has: page.getByRole('cell', { name, exact: true }) });
}

/** The MFA column of a user's row in System → Users. */
async function mfaColumn(page: Page, name: string): Promise<string> {
  return (await row(page, name).locator('td').nth(3).innerText()).trim();
}

async function tableRows(page: Page): Promise<{ name: string; mfa: string }[]> {
  return page.locator('tbody tr').evaluateAll((rows) =>
    rows.map((tr) => ({
      name: (tr.children[0]?.textContent ?? '').replace(' (you)', ''),
      mfa: tr.children[3]?.textContent ?? '',
    })),
  );
}

/** Presses Tab until the target has the focus, as a keyboard user would. */
async function tabTo(page: Page, target: Locator, max = 40): Promise<void> {
  for (let i = 0; i < max; i += 1) {
    if (await target.evaluate((el) => el === el.ownerDocument.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}

/** Tab and Shift+Tab keep the focus inside the open dialog, moving between its controls. */
async function assertFocusTrapped(page: Page, dialog: Locator): Promise<void> {
  const focusedInside = () =>
    dialog.evaluate((d) => {
      const active = d.ownerDocument.activeElement;
      return active !== d && d.contains(active);
    });
  assert.ok(await focusedInside(), 'the dialog has the focus when it opens');
  const seen = new Set<number>();
  const keys = ['Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab'];
  for (const key of keys) {
    await page.keyboard.press(key);
    assert.ok(await focusedInside(), `the focus stays inside the dialog after ${key}`);
    seen.add(
      await dialog.evaluate((d) =>
        [...d.querySelectorAll('*')].findIndex((el) => el === d.ownerDocument.activeElement),
      ),
    );
  }
  assert.ok(seen.size >= 2, 'Tab moves between the dialog controls');
}

async function focusedText(page: Page): Promise<string> {
  return page.locator(':focus').innerText();
}

// The two suites use separate servers and run side by side: the policy suite spends most of its
// time waiting out the server's one-email-per-30-s rule.
describe('the org admin’s console', { concurrency: 2 }, () => {
  describe('Account Settings → Security: the MFA policy', { concurrency: 1 }, () => {
    let admin: Signed;
    let adminApp: Authenticator;

    test('turning MFA on: Escape and CANCEL change nothing, NO keeps sessions, YES invalidates them, and the unenrolled admin is sent to enroll', async (t) => {
      if (skipWithoutBrowser(t)) return;
      const portcullis = policyServer;
      const adminCookie = await portcullis.apiSession();
      const memberCookie = await addMember(portcullis, adminCookie, 'mia@acme.test', 'Mia Member');
      admin = await signedInPage(browser, portcullis, adminCookie);
      const member = await signedInPage(browser, portcullis, memberCookie);
      const { page } = admin;

      await openSecurity(page, portcullis);
      assert.equal(await checkedPolicy(page), 'Disabled');
      for (const text of [
        'MFA is not available.',
        'MFA is requested for sensitive actions only if the user opted in.',
        'MFA is mandatory. Users must enable a method.',
      ]) {
        await page.getByText(text, { exact: true }).waitFor();
      }
      await page.getByRole('switch', { name: 'Authenticator App' }).waitFor();
      await reviewBothWidths(page, 'admin-security');

      // By keyboard alone: the dialog opens, holds the focus (on CANCEL first), Escape cancels.
      await tabTo(page, radio(page, 'Disabled'));
      await page.keyboard.press('ArrowDown');
      assert.equal(await checkedPolicy(page), 'Enabled');
      await page.keyboard.press('Tab');
      assert.equal(await focusedText(page), 'Save policy');
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Turn on multi-factor authentication?' });
      await dialog.waitFor();
      assert.equal(await focusedText(page), 'CANCEL', 'the safe choice has the focus');
      await assertFocusTrapped(page, dialog);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await checkedPolicy(page), 'Disabled');
      assert.equal((await orgMfa(portcullis, adminCookie)).policy, 'disabled');

      // CANCEL aborts: the policy and everyone's sessions stay as they were.
      await radio(page, 'Enabled').check();
      await page.getByRole('button', { name: 'Save policy' }).click();
      await dialog.waitFor();
      assert.deepEqual(await dialog.getByRole('button').allInnerTexts(), [
        'YES, INVALIDATE SESSIONS',
        'NO, KEEP SESSIONS',
        'CANCEL',
      ]);
      await dialog
        .getByText(
          'Logs out all users from existing sessions across devices and requires them to log in again.',
        )
        .waitFor();
      await dialog
        .getByText('Allows currently active sessions to remain valid until they expire.')
        .waitFor();
      await reviewBothWidths(page, 'admin-security-enable-dialog');
      await dialog.getByRole('button', { name: 'CANCEL' }).click();
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await checkedPolicy(page), 'Disabled');
      assert.equal((await orgMfa(portcullis, adminCookie)).policy, 'disabled');
      assert.equal((await portcullis.api('GET', '/me', memberCookie)).status, 200);

      // NO, KEEP SESSIONS: MFA is on, the member's session goes on, the unenrolled admin must enroll.
      await radio(page, 'Enabled').check();
      await page.getByRole('button', { name: 'Save policy' }).click();
      await dialog.getByRole('button', { name: 'NO, KEEP SESSIONS' }).click();
      await page.waitForURL(/\/enroll$/);
      const memberMe = await getJson<{ mfa: { policy: string } }>(portcullis, '/me', memberCookie);
      assert.equal(memberMe.status, 200, 'the member is still signed in');
      assert.equal(memberMe.body.mfa.policy, 'enabled');
      await member.page.goto(`${portcullis.url}/settings/security`);
      await member.page.waitForLoadState('networkidle');
      assert.match(member.page.url(), /\/settings\/security$/);

      // The admin's new session is in enrollment: enroll an authenticator app with it.
      const enrolling = await cookieOf(admin.context, portcullis);
      assert.notEqual(enrolling, adminCookie, 'the policy change gave the admin a new session');
      const enrollingMe = await getJson<{ session: { status: string } }>(
        portcullis,
        '/me',
        enrolling,
      );
      assert.equal(enrollingMe.body.session.status, 'enrollment_required');
      const enrolled = await enrollTotp(portcullis, enrolling);
      adminApp = enrolled.authenticator;
      await admin.context.addCookies([
        { name: 'portcullis_session', value: enrolled.cookie, url: portcullis.url },
      ]);

      // YES, INVALIDATE SESSIONS: the member is signed out at once; the enrolled admin stays.
      await openSecurity(page, portcullis);
      assert.equal(await checkedPolicy(page), 'Enabled');
      await radio(page, 'Required').check();
      await page.getByRole('button', { name: 'Save policy' }).click();
      const requireDialog = page.getByRole('dialog', {
        name: 'Require multi-factor authentication?',
      });
      await requireDialog.getByRole('button', { name: 'YES, INVALIDATE SESSIONS' }).click();
      await page.getByText('Multi-factor authentication is now Required.').waitFor();
      assert.match(page.url(), /\/admin\/security$/);
      await eventually(async () => assert.equal(await checkedPolicy(page), 'Required'));
      assert.equal((await portcullis.api('GET', '/me', memberCookie)).status, 401);
      await member.page.goto(`${portcullis.url}/settings/security`);
      await member.page.waitForURL(/\/sign-in/);
      const adminNow = await cookieOf(admin.context, portcullis);
      assert.equal((await orgMfa(portcullis, adminNow)).policy, 'required');
    });

    test('turning MFA off takes the emailed code: a wrong code is refused, Escape or Cancel ends the attempt, a reopened dialog sends a new code', async (t) => {
      if (skipWithoutBrowser(t)) return;
      const portcullis = policyServer;
      assert.ok(admin && adminApp, 'runs after the policy was turned on');
      const { page, context } = admin;
      const email = portcullis.admin.email;
      const cookie = () => cookieOf(context, portcullis);

      // First attempt, by keyboard: a code is emailed, a wrong one is refused, Escape ends it.
      await openSecurity(page, portcullis);
      assert.equal(await checkedPolicy(page), 'Required');
      let sent = await portcullis.outboxCount();
      await tabTo(page, radio(page, 'Required'));
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('ArrowUp');
      assert.equal(await checkedPolicy(page), 'Disabled');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Turn off multi-factor authentication?' });
      await dialog.getByText(`We sent a 6-digit code to ${email}`).waitFor();
      const timer = (await dialog.getByRole('timer').innerText()).trim();
      assert.match(timer, /^(5:00|4:[0-5]\d)$/, `a 5-minute countdown, not ${timer}`);
      const firstCode = await portcullis.emailedCode(email, sent);
      await assertFocusTrapped(page, dialog);
      const wrong = String((Number(firstCode) + 1) % 1_000_000).padStart(6, '0');
      await dialog.getByLabel('Code from the email').fill(wrong);
      await page.keyboard.press('Enter');
      await dialog.getByText('That code is not right').waitFor();
      assert.equal((await orgMfa(portcullis, await cookie())).policy, 'required');
      await reviewBothWidths(page, 'admin-security-disable-dialog');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.equal(await checkedPolicy(page), 'Required');
      assert.equal((await orgMfa(portcullis, await cookie())).policy, 'required');

      // Meanwhile, the allowed methods: the last one cannot go while MFA is on; a change steps up.
      const totp = page.getByRole('switch', { name: 'Authenticator App' });
      const emailMethod = page.getByRole('switch', { name: 'Email' });
      await totp.uncheck();
      await emailMethod.uncheck();
      await page
        .getByText('Keep at least one method on while multi-factor authentication is on.')
        .waitFor();
      assert.ok(await page.getByRole('button', { name: 'Save methods' }).isDisabled());
      await totp.check();
      await page.getByRole('button', { name: 'Save methods' }).click();
      const stepUp = page.getByRole('dialog', { name: 'Verification Required' });
      await stepUp.getByLabel('Verification code').fill(await adminApp.nextCode());
      await stepUp.getByRole('button', { name: 'Confirm' }).click();
      await page.getByText('Verification methods saved.').waitFor();
      const methods = (await orgMfa(portcullis, await cookie())).methods;
      assert.deepEqual(methods, { totp: true, email: false });

      // Reopened: a new attempt. The server sends one email per 30 s, so the dialog may first say
      // when a new code can come; then it comes, and the first code no longer counts.
      await radio(page, 'Disabled').check();
      await page.getByRole('button', { name: 'Save policy' }).click();
      const sendNew = dialog.getByRole('button', { name: 'Send a new code' });
      const codeSent = dialog.getByText(`We sent a 6-digit code to ${email}`);
      await sendNew.or(codeSent).first().waitFor();
      if (await sendNew.isVisible()) {
        await dialog.getByText(/You can ask for a new one in \d+ s\./).waitFor();
        await review(page, 'admin-security-disable-dialog-wait-desktop');
        await dialog
          .locator('button:enabled', { hasText: 'Send a new code' })
          .waitFor({ timeout: 35_000 });
        sent = await portcullis.outboxCount();
        await sendNew.click();
        await codeSent.waitFor();
      }
      const secondCode = await portcullis.emailedCode(email, sent);
      await dialog.getByLabel('Code from the email').fill(firstCode);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.getByText('That code is not right').waitFor();
      assert.equal((await orgMfa(portcullis, await cookie())).policy, 'required');
      await dialog.getByLabel('Code from the email').fill(secondCode);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByText('Multi-factor authentication is now Disabled.').waitFor();
      await eventually(async () => assert.equal(await checkedPolicy(page), 'Disabled'));
      assert.equal((await orgMfa(portcullis, await cookie())).policy, 'disabled');
    });
  });

  describe('System → Users and the Audit log', { concurrency: 1 }, () => {
    let adminCookie: string;
    let adminApp: Authenticator;
    let adminRecoveryCodes: string[];
    let page: Page;

    before(async () => {
      if (!existsSync(CHROMIUM)) return;
      // MFA is on and the admin has an authenticator app, so Reset MFA asks for a step-up.
      await strengthenByApi(usersServer, 'enabled', 'invalidate');
      adminCookie = await usersServer.apiSession();
      const enrolled = await enrollTotp(usersServer, adminCookie);
      adminApp = enrolled.authenticator;
      adminRecoveryCodes = enrolled.recoveryCodes;
      ({ page } = await signedInPage(browser, usersServer, adminCookie));
    });

    async function openUsers(wait: string): Promise<void> {
      await page.goto(`${usersServer.url}/admin/users`);
      await page.getByRole('cell', { name: wait, exact: true }).waitFor();
    }

    test('Reset MFA from the users table: after the confirmation and the step-up the member is Not Enrolled and signed out', async (t) => {
      if (skipWithoutBrowser(t)) return;
      const portcullis = usersServer;
      const memberCookie = await addMember(portcullis, adminCookie, 'mia@acme.test', 'Mia Member');
      await enrollTotp(portcullis, memberCookie);
      const before = await orgMfa(portcullis, adminCookie);

      await openUsers('Mia Member');
      assert.equal(await mfaColumn(page, 'Mia Member'), 'Enrolled');
      await page
        .getByText(`${before.users_enrolled} of ${before.users_total} users enrolled`)
        .waitFor();
      assert.equal(
        await page.getByRole('button', { name: 'Reset MFA for Ada Admin' }).count(),
        0,
        'no Reset MFA for oneself',
      );
      await reviewBothWidths(page, 'admin-users');

      await page.getByRole('button', { name: 'Reset MFA for Mia Member' }).click();
      const confirm = page.getByRole('dialog', { name: 'Reset MFA' });
      await confirm.waitFor();
      assert.match(
        await confirm.innerText(),
        /Reset MFA for Mia Member\? Their verification methods and recovery codes are removed and they are signed out everywhere\. They enroll again at their next sign-in if your organization requires it\./,
      );
      await reviewBothWidths(page, 'admin-users-reset-dialog');
      await confirm.getByRole('button', { name: 'Reset MFA' }).click();

      const stepUp = page.getByRole('dialog', { name: 'Verification Required' });
      await stepUp.getByText('Confirm it is you to reset MFA for Mia Member:').waitFor();
      await stepUp.getByLabel('Verification code').fill(await adminApp.nextCode());
      await stepUp.getByRole('button', { name: 'Confirm' }).click();
      await stepUp.waitFor({ state: 'hidden' });
      await confirm.waitFor({ state: 'hidden' });
      await page.getByText('MFA was reset for Mia Member.').waitFor();
      assert.equal((await portcullis.api('GET', '/me', memberCookie)).status, 401, 'signed out');
      await eventually(async () =>
        assert.equal(await mfaColumn(page, 'Mia Member'), 'Not Enrolled'),
      );
      await page
        .getByText(`${before.users_enrolled - 1} of ${before.users_total} users enrolled`)
        .waitFor();
      const users = await getJson<{ users: { email: string; mfa: string }[] }>(
        portcullis,
        '/org/users',
        adminCookie,
      );
      assert.equal(users.body.users.find((u) => u.email === 'mia@acme.test')?.mfa, 'not_enrolled');
    });

    test('the audit log shows the policy change with its session choice and the reset with actor and target, newest first; filters narrow it', async (t) => {
      if (skipWithoutBrowser(t)) return;
      const portcullis = usersServer;
      await portcullis.createUser(adminCookie, {
        email: 'rita@acme.test',
        name: 'Rita Reset',
        password: MEMBER_PASSWORD,
      });
      const { body } = await getJson<{ users: { id: string; email: string }[] }>(
        portcullis,
        '/org/users',
        adminCookie,
      );
      const rita = body.users.find((u) => u.email === 'rita@acme.test');
      assert.ok(rita);
      const reset = await portcullis.api('POST', `/org/users/${rita.id}/mfa/reset`, adminCookie, {
        verification: { method: 'recovery_code', code: adminRecoveryCodes[0] },
      });
      assert.equal(reset.status, 204, await reset.text());

      await page.goto(`${portcullis.url}/admin/audit`);
      const rows = page.locator('tbody tr');
      await rows.first().waitFor();
      const cells = async (target: Locator) =>
        (await target.locator('td').allInnerTexts()).map((c) => c.trim());

      const times = await page
        .locator('tbody time')
        .evaluateAll((els) => els.map((el) => Date.parse(el.getAttribute('datetime') ?? '')));
      assert.ok(times.length > 5);
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
        'newest first',
      );

      const resetRow = page.locator('tbody tr[data-type="mfa.reset"]', {
        hasText: 'rita@acme.test',
      });
      const resetCells = await cells(resetRow);
      assert.equal(resetCells[1], 'MFA reset');
      assert.equal(resetCells[2], 'ada@acme.test', 'actor');
      assert.equal(resetCells[3], 'rita@acme.test', 'target');
      assert.match(resetCells[5] ?? '', /removed/);
      assert.match(resetCells[4] ?? '', /127\.0\.0\.1/);

      const policyRow = page.locator('tbody tr[data-type="org.mfa_policy_changed"]');
      const policyCells = await cells(policyRow);
      assert.equal(policyCells[1], 'MFA policy changed');
      assert.equal(policyCells[2], 'ada@acme.test');
      assert.equal(policyCells[5], 'Disabled → Enabled · sessions invalidated');
      const signIn = await cells(page.locator('tbody tr[data-type="login.succeeded"]').first());
      assert.equal(signIn[1], 'Signed in');
      await reviewBothWidths(page, 'admin-audit');

      const types = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-type')));
      await page.getByLabel('Event', { exact: true }).selectOption({ label: 'MFA reset' });
      await eventually(async () => {
        const shown = await types();
        assert.ok(shown.length >= 1);
        assert.ok(shown.every((type) => type === 'mfa.reset'));
      });
      await page.getByLabel('Event', { exact: true }).selectOption({ label: 'All events' });
      await page
        .getByLabel('User', { exact: true })
        .selectOption({ label: 'Rita Reset (rita@acme.test)' });
      await eventually(async () => assert.deepEqual(await types(), ['mfa.reset', 'user.created']));
      await page.getByLabel('Event', { exact: true }).selectOption({ label: 'Sign-in failed' });
      await page.getByText('No events match these filters.').waitFor();
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await eventually(async () => assert.ok((await rows.count()) > 5));
    });

    test('Add user and Reset MFA dialogs work by keyboard alone: they open, keep the focus, and Escape cancels them', async (t) => {
      if (skipWithoutBrowser(t)) return;
      const portcullis = usersServer;
      const memberCookie = await addMember(
        portcullis,
        adminCookie,
        'kim@acme.test',
        'Kim Keyboard',
      );
      const usersBefore = (await orgMfa(portcullis, adminCookie)).users_total;
      await openUsers('Kim Keyboard');

      await tabTo(page, page.getByRole('button', { name: 'Add user' }));
      await page.keyboard.press('Enter');
      const add = page.getByRole('dialog', { name: 'Add user' });
      await add.waitFor();
      await page.keyboard.type('Lee Later');
      assert.equal(await add.getByLabel('Name').inputValue(), 'Lee Later', 'Name has the focus');
      await page.keyboard.press('Tab');
      await page.keyboard.type('lee@acme.test');
      await assertFocusTrapped(page, add);
      await page.keyboard.press('Escape');
      await add.waitFor({ state: 'hidden' });
      assert.equal(await focusedText(page), 'Add user', 'the focus returns to the button');
      assert.equal(
        (await orgMfa(portcullis, adminCookie)).users_total,
        usersBefore,
        'nobody added',
      );

      await tabTo(page, page.getByRole('button', { name: 'Reset MFA for Kim Keyboard' }));
      await page.keyboard.press('Enter');
      const reset = page.getByRole('dialog', { name: 'Reset MFA' });
      await reset.waitFor();
      assert.equal(await focusedText(page), 'Cancel', 'the safe choice has the focus');
      await assertFocusTrapped(page, reset);
      await page.keyboard.press('Escape');
      await reset.waitFor({ state: 'hidden' });
      assert.equal(
        (await portcullis.api('GET', '/me', memberCookie)).status,
        200,
        'not signed out',
      );
      const audit = await getJson<{ events: { target: { email: string } | null }[] }>(
        portcullis,
        '/org/audit?type=mfa.reset',
        adminCookie,
      );
      assert.ok(
        audit.body.events.every((event) => event.target?.email !== 'kim@acme.test'),
        'no reset happened',
      );
    });

    test('the MFA column shows Enrolled, Not Enrolled and SSO; the filter lists only matching users; Add user; more than one page', async (t) => {
      if (skipWithoutBrowser(t)) return;
      const portcullis = usersServer;
      const ennoCookie = await addMember(
        portcullis,
        adminCookie,
        'enno@acme.test',
        'Enno Enrolled',
      );
      await portcullis.createUser(adminCookie, {
        email: 'nora@acme.test',
        name: 'Nora Notenrolled',
        password: MEMBER_PASSWORD,
      });
      const filter = page.getByLabel('MFA status', { exact: true });

      // No SSO user yet: that filter shows the empty state.
      await openUsers('Nora Notenrolled');
      await filter.selectOption({ label: 'SSO' });
      await page.getByText('No users match “SSO”.').waitFor();
      await reviewBothWidths(page, 'admin-users-filtered-empty');
      await page.getByRole('button', { name: 'Show all users' }).click();
      await page.getByRole('cell', { name: 'Nora Notenrolled', exact: true }).waitFor();

      await enrollTotp(portcullis, ennoCookie);
      await portcullis.createUser(adminCookie, {
        email: 'sam@acme.test',
        name: 'Sam Sso',
        sso: true,
      });
      await openUsers('Sam Sso');
      assert.equal(await mfaColumn(page, 'Enno Enrolled'), 'Enrolled');
      assert.equal(await mfaColumn(page, 'Nora Notenrolled'), 'Not Enrolled');
      assert.equal(await mfaColumn(page, 'Sam Sso'), 'SSO');
      assert.equal(
        await page.getByRole('button', { name: 'Reset MFA for Sam Sso' }).count(),
        0,
        'no Reset MFA for an SSO user',
      );

      for (const [label, present, absent] of [
        ['Enrolled', ['Ada Admin', 'Enno Enrolled'], ['Nora Notenrolled', 'Sam Sso']],
        ['Not Enrolled', ['Nora Notenrolled'], ['Enno Enrolled', 'Sam Sso', 'Ada Admin']],
        ['SSO', ['Sam Sso'], ['Enno Enrolled', 'Nora Notenrolled']],
      ] as const) {
        await filter.selectOption({ label });
        await eventually(async () => {
          const shown = await tableRows(page);
          assert.ok(
            shown.every((user) => user.mfa === label),
            `only ${label} users: ${JSON.stringify(shown)}`,
          );
          const names = shown.map((user) => user.name);
          for (const name of present) assert.ok(names.includes(name), `${name} is listed`);
          for (const name of absent) assert.ok(!names.includes(name), `${name} is not listed`);
        });
      }
      await filter.selectOption({ label: 'All users' });
      await page.getByRole('cell', { name: 'Sam Sso', exact: true }).waitFor();

      // Add user: the form says what is wrong, then the user is in the list.
      await page.getByRole('button', { name: 'Add user' }).click();
      const add = page.getByRole('dialog', { name: 'Add user' });
      await add.getByLabel('Name').fill('Paul Password');
      await add.getByLabel('Email').fill('paul@acme.test');
      await add.getByLabel('Initial password').fill('short');
      await add.getByRole('button', { name: 'Add user' }).click();
      await add.getByText('A password is at least 8 characters long.').waitFor();
      await reviewBothWidths(page, 'admin-users-add-dialog');
      await add.getByLabel('Initial password').fill(MEMBER_PASSWORD);
      await add.getByRole('button', { name: 'Add user' }).click();
      await add.waitFor({ state: 'hidden' });
      await page.getByText('Paul Password (paul@acme.test) was added.').waitFor();
      await page.getByRole('cell', { name: 'Paul Password', exact: true }).waitFor();
      assert.equal(await mfaColumn(page, 'Paul Password'), 'Not Enrolled');
      await portcullis.apiSession('paul@acme.test', MEMBER_PASSWORD);

      // More than one page (50 a page).
      const existing = (await orgMfa(portcullis, adminCookie)).users_total;
      const more = 55;
      for (let batch = 0; batch < more; batch += 11) {
        await Promise.all(
          Array.from({ length: 11 }, (_, i) =>
            portcullis.createUser(adminCookie, {
              email: `user${String(batch + i).padStart(2, '0')}@acme.test`,
              name: `User ${String(batch + i).padStart(2, '0')}`,
              password: MEMBER_PASSWORD,
            }),
          ),
        );
      }
      const total = existing + more;
      await openUsers('User 00');
      await page.getByText(` of ${total} users enrolled`).waitFor();
      const firstPage = (await tableRows(page)).map((user) => user.name);
      assert.equal(firstPage.length, 50);
      assert.ok(await page.getByRole('button', { name: 'Previous page' }).isDisabled());
      await page.getByRole('button', { name: 'Next page' }).click();
      await eventually(async () => assert.equal((await tableRows(page)).length, total - 50));
      await page.getByText('Page 2').waitFor();
      const secondPage = (await tableRows(page)).map((user) => user.name);
      assert.ok(await page.getByRole('button', { name: 'Next page' }).isDisabled());
      assert.equal(new Set([...firstPage, ...secondPage]).size, total, 'every user once');
      await page.getByRole('button', { name: 'Previous page' }).click();
      await eventually(async () =>
        assert.deepEqual(
          (await tableRows(page)).map((user) => user.name),
          firstPage,
        ),
      );
      // A filter starts again from the first page.
      await filter.selectOption({ label: 'SSO' });
      await eventually(async () =>
        assert.deepEqual(
          (await tableRows(page)).map((user) => user.name),
          ['Sam Sso'],
        ),
      );
      assert.equal(await page.getByRole('button', { name: 'Next page' }).count(), 0);
    });
  });
});

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { sessionCookieFrom } from '../helpers/process.ts';
import {
  Authenticator,
  DESKTOP,
  PHONE,
  Portcullis,
  launchBrowser,
  newPage,
  review,
  skipWithoutBrowser,
} from './harness.ts';

/**
 * User Settings → Security and → Change Password, end to end: a real server, real
 * Chromium. State is set up fast through the API (TOTP enrolled with a computed code, email added
 * with the emailed code); the browser gets the member's session cookie.
 */

type Member = {
  email: string;
  password: string;
  cookie: string;
  /** The member's authenticator app (when enrolled with TOTP), for later codes. */
  authenticator?: Authenticator;
  recoveryCodes: string[];
};

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new passphrase';

/** Step-up codes say "to confirm a sensitive change"; enrollment ones "to turn on email". */
const STEP_UP = 'to confirm a sensitive change';
const ENROLL_EMAIL = 'to turn on email verification';

class Fixture {
  readonly portcullis: Portcullis;
  readonly browser: Browser;
  adminCookie: string;
  /** The admin's recovery codes, for the step-up of admin changes. */
  adminRecoveryCodes: string[] = [];
  private next = 0;

  constructor(portcullis: Portcullis, browser: Browser, adminCookie: string) {
    this.portcullis = portcullis;
    this.browser = browser;
    this.adminCookie = adminCookie;
  }

  async json<T>(method: string, path: string, cookie: string, body?: unknown) {
    const response = await this.portcullis.api(method, path, cookie, body);
    const text = await response.text();
    return {
      status: response.status,
      body: (text ? JSON.parse(text) : null) as T,
      cookie: sessionCookieFrom(response),
    };
  }

  /** A member signed in through the API; with totp, enrolled with a code computed here. */
  async member(options: { totp?: boolean; email?: boolean } = {}): Promise<Member> {
    this.next += 1;
    const email = `member${this.next}@acme.test`;
    await this.portcullis.createUser(this.adminCookie, {
      email,
      name: `Member ${this.next}`,
      password: PASSWORD,
    });
    let cookie = await this.portcullis.apiSession(email, PASSWORD);
    let authenticator: Authenticator | undefined;
    let recoveryCodes: string[] = [];
    if (options.totp) {
      const setup = await this.json<{ secret: string }>('POST', '/me/mfa/totp/setup', cookie, {});
      assert.equal(setup.status, 200, JSON.stringify(setup.body));
      authenticator = new Authenticator(setup.body.secret);
      const confirm = await this.json<{ recovery_codes: string[] }>(
        'POST',
        '/me/mfa/totp/confirm',
        cookie,
        { code: await authenticator.nextCode() },
      );
      assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
      cookie = confirm.cookie ?? cookie;
      recoveryCodes = confirm.body.recovery_codes;
    }
    if (options.email) {
      const seen = await this.outboxFiles();
      const setup = await this.json('POST', '/me/mfa/email/setup', cookie, {
        verification: { method: 'totp', code: await authenticator!.nextCode() },
      });
      assert.equal(setup.status, 202, JSON.stringify(setup.body));
      const confirm = await this.json<{ recovery_codes: string[] }>(
        'POST',
        '/me/mfa/email/confirm',
        cookie,
        { code: await this.newCode(email, ENROLL_EMAIL, seen) },
      );
      assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
      recoveryCodes = confirm.body.recovery_codes;
    }
    return { email, password: PASSWORD, cookie, authenticator, recoveryCodes };
  }

  async outboxFiles(): Promise<Set<string>> {
    const outbox = join(this.portcullis.dataDir, 'outbox');
    return new Set(existsSync(outbox) ? await readdir(outbox) : []);
  }

  /** The code of a mail to `to` for `purpose` that arrived after the `seen` snapshot. */
  async newCode(to: string, purpose: string, seen: Set<string>): Promise<string> {
    const outbox = join(this.portcullis.dataDir, 'outbox');
    for (let attempt = 0; attempt < 100; attempt += 1) {
      for (const file of [...(await this.outboxFiles())].filter((f) => !seen.has(f))) {
        const text = await readFile(join(outbox, file), 'utf8');
        const code = /verification code is (\d{6})/.exec(text)?.[1];
        if (text.startsWith(`To: ${to}\n`) && text.includes(purpose) && code) return code;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no new code was emailed to ${to}`);
  }

  /** Password sign-in through the API: the status, and the cookie of the pending session. */
  async login(email: string, password: string) {
    const response = await fetch(`${this.portcullis.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ org: this.portcullis.admin.org, email, password }),
    });
    return { status: response.status, cookie: sessionCookieFrom(response) };
  }

  /** Password then second factor through the API: a fully signed-in session cookie. */
  async signIn(email: string, password: string, method: string, code: string): Promise<string> {
    const login = await this.login(email, password);
    assert.equal(login.status, 200);
    const verify = await this.json('POST', '/auth/mfa/verify', login.cookie!, { method, code });
    assert.equal(verify.status, 200, JSON.stringify(verify.body));
    return verify.cookie!;
  }

  /** A browser page signed in with the session cookie (faster than the sign-in form). */
  async page(cookie: string, viewport = DESKTOP) {
    const { context, page } = await newPage(this.browser, viewport);
    await context.addCookies([
      { name: 'portcullis_session', value: cookie, url: this.portcullis.url },
    ]);
    return { context, page };
  }

  async me(cookie: string) {
    return this.json<{
      mfa: { methods: { type: string }[]; recovery_codes_remaining: number };
    }>('GET', '/me', cookie);
  }
}

const modal = (page: Page) => page.getByRole('dialog', { name: 'Verification Required' });

async function fillPasswordForm(page: Page, current: string, next: string, confirm = next) {
  await page.getByLabel('Current password').fill(current);
  await page.getByLabel('New password', { exact: true }).fill(next);
  await page.getByLabel('Confirm new password').fill(confirm);
}

async function openPasswordScreen(page: Page, url: string) {
  await page.goto(`${url}/settings/password`);
  await page.getByRole('heading', { name: 'Change Password', level: 1 }).waitFor();
}

async function openSecurityScreen(page: Page, url: string) {
  await page.goto(`${url}/settings/security`);
  await page.getByRole('heading', { name: 'Your Verification Methods' }).waitFor();
}

/** The page's document, typed for the few calls made here (the tests compile without DOM types). */
type Focusable = { getAttribute(name: string): string | null; textContent: string | null };
type PageDocument = {
  activeElement: Focusable | null;
  querySelector(selector: string): { contains(node: unknown): boolean } | null;
};

/** Whether the focused element sits inside the open dialog. */
function focusInDialog(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: PageDocument }).document;
    const dialog = doc.querySelector('dialog[open]');
    return !!dialog && dialog.contains(doc.activeElement);
  });
}

/** Where focus is: in the open dialog, on nothing (the browser's own UI), or on the page. */
function focusWhere(page: Page): Promise<'dialog' | 'none' | 'page'> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as { document: PageDocument & { body: unknown } }).document;
    if (doc.querySelector('dialog[open]')?.contains(doc.activeElement)) return 'dialog';
    return doc.activeElement === null || doc.activeElement === doc.body ? 'none' : 'page';
  });
}

/** The accessible name (aria-label or text) of the focused element. */
function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = (globalThis as unknown as { document: PageDocument }).document.activeElement;
    return element?.getAttribute('aria-label') ?? element?.textContent?.trim() ?? '';
  });
}

test('User Settings: Security and Change Password', async (t: TestContext) => {
  if (skipWithoutBrowser(t)) return;
  const portcullis = await Portcullis.start(t);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const f = new Fixture(portcullis, browser, await portcullis.apiSession());
  const { url } = portcullis;

  await t.test('with MFA disabled for the org, Security says so and offers nothing', async () => {
    for (const [name, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      const { context, page } = await f.page(f.adminCookie, viewport);
      await openSecurityScreen(page, url);
      await page
        .getByText('Multi-factor authentication is disabled for your organization')
        .waitFor();
      assert.equal(await page.getByRole('button', { name: /^Enable/ }).count(), 0);
      assert.equal(await page.getByRole('button', { name: /More actions/ }).count(), 0);
      await review(page, `user-security-mfa-disabled-${name}`);
      await context.close();
    }
    const enabled = await f.json('PUT', '/org/mfa/policy', f.adminCookie, {
      policy: 'enabled',
      sessions: 'keep',
    });
    assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
    f.adminCookie = enabled.cookie ?? f.adminCookie;
    // The admin who turns MFA on must enroll too, before anything else.
    const setup = await f.json<{ secret: string }>('POST', '/me/mfa/totp/setup', f.adminCookie, {});
    assert.equal(setup.status, 200, JSON.stringify(setup.body));
    const confirm = await f.json<{ recovery_codes: string[] }>(
      'POST',
      '/me/mfa/totp/confirm',
      f.adminCookie,
      { code: await new Authenticator(setup.body.secret).nextCode() },
    );
    assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
    f.adminCookie = confirm.cookie ?? f.adminCookie;
    f.adminRecoveryCodes = confirm.body.recovery_codes;
  });

  await t.test(
    'without methods, Security offers Enable for each method the org allows',
    async () => {
      const member = await f.member();
      for (const [name, viewport] of [
        ['desktop', DESKTOP],
        ['phone', PHONE],
      ] as const) {
        const { context, page } = await f.page(member.cookie, viewport);
        await openSecurityScreen(page, url);
        await page.getByRole('button', { name: 'Enable Authenticator App' }).waitFor();
        await page.getByRole('button', { name: 'Enable Email' }).waitFor();
        assert.equal(await page.getByText(/recovery codes left/).count(), 0);
        await review(page, `user-security-no-methods-${name}`);
        await context.close();
      }

      const onlyTotp = await f.json('PUT', '/org/mfa/methods', f.adminCookie, {
        totp: true,
        email: false,
        verification: { method: 'recovery_code', code: f.adminRecoveryCodes[0] },
      });
      assert.equal(onlyTotp.status, 200, JSON.stringify(onlyTotp.body));
      const { context, page } = await f.page(member.cookie);
      await openSecurityScreen(page, url);
      await page.getByRole('button', { name: 'Enable Authenticator App' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Enable Email' }).count(), 0);
      const both = await f.json('PUT', '/org/mfa/methods', f.adminCookie, {
        totp: true,
        email: true,
        verification: { method: 'recovery_code', code: f.adminRecoveryCodes[1] },
      });
      assert.equal(both.status, 200, JSON.stringify(both.body));

      await page.getByRole('button', { name: 'Enable Authenticator App' }).click();
      await page.waitForURL(/\/enroll\?method=totp$/);
      await context.close();
    },
  );

  await t.test(
    'changing the password through the modal with the authenticator app signs out the other sessions',
    async () => {
      const member = await f.member({ totp: true });
      const other = await f.signIn(
        member.email,
        PASSWORD,
        'recovery_code',
        member.recoveryCodes[0]!,
      );
      const second = await f.page(other);
      await openSecurityScreen(second.page, url);

      const phone = await f.page(member.cookie, PHONE);
      await openPasswordScreen(phone.page, url);
      await review(phone.page, 'change-password-empty-phone');
      await fillPasswordForm(phone.page, 'not my password', NEW_PASSWORD);
      await phone.page.getByRole('button', { name: 'Save Changes' }).click();
      await phone.page.getByText('Your current password is not correct.').waitFor();
      await review(phone.page, 'change-password-error-phone');
      await phone.context.close();

      const { context, page } = await f.page(member.cookie);
      await openPasswordScreen(page, url);
      await review(page, 'change-password-empty-desktop');
      await fillPasswordForm(page, PASSWORD, 'short');
      await page.getByRole('button', { name: 'Save Changes' }).click();
      await page.getByText('A password is at least 8 characters long.').waitFor();
      await fillPasswordForm(page, PASSWORD, NEW_PASSWORD, 'a different passphrase');
      await page.getByRole('button', { name: 'Save Changes' }).click();
      await page.getByText('The new passwords do not match.').waitFor();
      assert.equal(await modal(page).count(), 0, 'no request is sent for a mismatch');
      await review(page, 'change-password-error-desktop');

      await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Save Changes' }).click();
      await modal(page).waitFor();
      // The modal names what the code will allow.
      await modal(page).getByText('Confirm it is you to change your password:').waitFor();
      // One method: its code is asked for directly, no choice; a recovery code stays possible.
      assert.equal(await modal(page).getByRole('radio').count(), 0);
      await modal(page).getByRole('button', { name: 'Use a recovery code' }).waitFor();
      await review(page, 'verification-modal-desktop');
      await modal(page)
        .getByLabel('Verification code')
        .fill(await member.authenticator!.nextCode());
      await modal(page).getByRole('button', { name: 'Confirm' }).click();
      await page
        .getByText('Your password was changed. Your other sessions were signed out.')
        .waitFor();
      assert.equal(await modal(page).isVisible(), false);
      await review(page, 'change-password-success-desktop');

      assert.equal((await f.login(member.email, NEW_PASSWORD)).status, 200);
      assert.equal((await f.login(member.email, PASSWORD)).status, 401);
      assert.equal((await f.me(other)).status, 401, 'the other session is signed out');
      await second.page.reload();
      await second.page.waitForURL(/\/sign-in/);
      // This session goes on, under its new cookie.
      const [rotated] = (await context.cookies()).filter((c) => c.name === 'portcullis_session');
      assert.notEqual(rotated?.value, member.cookie);
      assert.equal((await f.me(rotated!.value)).status, 200);
      await page.reload();
      await page.getByRole('heading', { name: 'Change Password', level: 1 }).waitFor();
      await context.close();
      await second.context.close();
    },
  );

  await t.test(
    'with two methods the modal offers the choice, and an emailed code works',
    async () => {
      const member = await f.member({ totp: true, email: true });
      for (const [name, viewport] of [
        ['desktop', DESKTOP],
        ['phone', PHONE],
      ] as const) {
        const { context, page } = await f.page(member.cookie, viewport);
        await openSecurityScreen(page, url);
        await page.getByRole('button', { name: 'More actions for Authenticator App' }).waitFor();
        await page.getByRole('button', { name: 'More actions for Email' }).waitFor();
        await page.getByText('10 of 10 recovery codes left').waitFor();
        await review(page, `user-security-methods-${name}`);
        await context.close();
      }

      const { context, page } = await f.page(member.cookie);
      await openPasswordScreen(page, url);
      await fillPasswordForm(page, PASSWORD, NEW_PASSWORD);
      await page.getByRole('button', { name: 'Save Changes' }).click();
      await modal(page).getByRole('radio', { name: 'Authenticator App' }).waitFor();
      await modal(page).getByRole('radio', { name: 'Email' }).check();
      await review(page, 'verification-modal-choice-desktop');
      const seen = await f.outboxFiles();
      await modal(page).getByRole('button', { name: 'Send code' }).click();
      const code = await f.newCode(member.email, STEP_UP, seen);
      await modal(page).getByLabel('Verification code').fill(code);
      await modal(page).getByRole('button', { name: 'Confirm' }).click();
      await page
        .getByText('Your password was changed. Your other sessions were signed out.')
        .waitFor();
      assert.equal((await f.login(member.email, NEW_PASSWORD)).status, 200);
      await context.close();
    },
  );

  await t.test('a recovery code completes the change at phone width', async () => {
    const member = await f.member({ totp: true });
    const { context, page } = await f.page(member.cookie, PHONE);
    await openPasswordScreen(page, url);
    await fillPasswordForm(page, PASSWORD, NEW_PASSWORD);
    await page.getByRole('button', { name: 'Save Changes' }).click();
    await modal(page).waitFor();
    await review(page, 'verification-modal-phone');
    await modal(page).getByRole('button', { name: 'Use a recovery code' }).click();
    await modal(page).getByLabel('Recovery code').fill(member.recoveryCodes[3]!);
    await modal(page).getByRole('button', { name: 'Confirm' }).click();
    await page
      .getByText('Your password was changed. Your other sessions were signed out.')
      .waitFor();
    await review(page, 'change-password-success-phone');
    const [cookie] = (await context.cookies()).filter((c) => c.name === 'portcullis_session');
    assert.equal((await f.me(cookie!.value)).body.mfa.recovery_codes_remaining, 9);
    assert.equal((await f.login(member.email, NEW_PASSWORD)).status, 200);
    await context.close();
  });

  await t.test('the modal and the 3-dot menu are usable by keyboard alone', async () => {
    const member = await f.member({ totp: true });
    const { context, page } = await f.page(member.cookie);

    // The 3-dot menu: reached with Tab, opened with Enter, arrows move, Escape closes.
    await openSecurityScreen(page, url);
    const trigger = page.getByRole('button', { name: 'More actions for Authenticator App' });
    for (
      let presses = 0;
      presses < 20 && (await focusedName(page)) !== 'More actions for Authenticator App';
      presses += 1
    ) {
      await page.keyboard.press('Tab');
    }
    assert.equal(await focusedName(page), 'More actions for Authenticator App');
    await page.keyboard.press('Enter');
    const menu = page.getByRole('menu');
    await menu.waitFor();
    assert.equal(await trigger.getAttribute('aria-expanded'), 'true');
    assert.equal(await focusedName(page), 'Disable');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focusedName(page), 'Disable');
    await review(page, 'method-menu-open-desktop');
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    assert.equal(await focusedName(page), 'More actions for Authenticator App');

    // Disable → the modal; Escape cancels it and focus returns to the 3-dot button.
    await page.keyboard.press('Enter');
    await menu.waitFor();
    await page.keyboard.press('Enter');
    await modal(page).waitFor();
    assert.ok(await focusInDialog(page), 'focus moves into the modal');
    await page.keyboard.press('Escape');
    await modal(page).waitFor({ state: 'hidden' });
    assert.equal(await focusedName(page), 'More actions for Authenticator App');
    assert.deepEqual(
      (await f.me(member.cookie)).body.mfa.methods.map((m) => m.type),
      ['totp'],
      'cancelling disables nothing',
    );

    // Change Password: Save Changes by keyboard; Tab stays inside the modal; Escape returns.
    await openPasswordScreen(page, url);
    await fillPasswordForm(page, PASSWORD, NEW_PASSWORD);
    await page.keyboard.press('Tab');
    assert.equal(await focusedName(page), 'Save Changes');
    await page.keyboard.press('Enter');
    await modal(page).waitFor();
    assert.ok(await focusInDialog(page), 'focus moves into the modal');
    // The page behind is inert: Tab cycles through the modal. Past its last control Chromium hands
    // focus to its own UI (in headless mode: nothing focused), then back to the modal's first one.
    const stops: string[] = [];
    for (let presses = 0; presses < 8; presses += 1) {
      await page.keyboard.press('Tab');
      stops.push(await focusWhere(page));
    }
    assert.ok(!stops.includes('page'), `Tab never reaches the page behind: ${stops.join(', ')}`);
    assert.ok(stops.lastIndexOf('dialog') > stops.indexOf('none'), 'Tab wraps into the modal');
    await page.keyboard.press('Escape');
    await modal(page).waitFor({ state: 'hidden' });
    assert.equal(await focusedName(page), 'Save Changes');
    await page.getByText('Verification was cancelled: your password is unchanged.').waitFor();

    await page.keyboard.press('Enter');
    await modal(page).waitFor();
    assert.ok(await focusInDialog(page));
    await page.keyboard.type(await member.authenticator!.nextCode());
    await page.keyboard.press('Enter');
    await page
      .getByText('Your password was changed. Your other sessions were signed out.')
      .waitFor();
    assert.equal((await f.login(member.email, NEW_PASSWORD)).status, 200);
    await context.close();
  });

  const disabler = await f.member({ totp: true, email: true });
  let regenerated: string[] = [];

  await t.test(
    'Disable in the 3-dot menu asks for a code; Regenerate replaces the recovery codes',
    async () => {
      const phone = await f.page(disabler.cookie, PHONE);
      await openSecurityScreen(phone.page, url);
      await phone.page.getByRole('button', { name: 'More actions for Email' }).click();
      await phone.page.getByRole('menuitem', { name: 'Disable' }).waitFor();
      await review(phone.page, 'method-menu-open-phone');
      await phone.context.close();

      const { context, page } = await f.page(disabler.cookie);
      await openSecurityScreen(page, url);
      await page.getByRole('button', { name: 'More actions for Authenticator App' }).click();
      await page.getByRole('menuitem', { name: 'Disable' }).click();
      await modal(page).getByRole('radio', { name: 'Email' }).check();
      const seen = await f.outboxFiles();
      await modal(page).getByRole('button', { name: 'Send code' }).click();
      const code = await f.newCode(disabler.email, STEP_UP, seen);
      await modal(page).getByLabel('Verification code').fill(code);
      await modal(page).getByRole('button', { name: 'Confirm' }).click();
      await page.getByText('Authenticator App is disabled.').waitFor();
      await page.getByRole('button', { name: 'Enable Authenticator App' }).waitFor();
      assert.deepEqual(
        (await f.me(disabler.cookie)).body.mfa.methods.map((m) => m.type),
        ['email'],
      );

      await page.getByRole('button', { name: 'Regenerate' }).click();
      await modal(page).getByRole('button', { name: 'Use a recovery code' }).click();
      await modal(page).getByLabel('Recovery code').fill(disabler.recoveryCodes[0]!);
      await modal(page).getByRole('button', { name: 'Confirm' }).click();
      const list = page.getByRole('list', { name: 'Recovery codes' });
      await list.waitFor();
      const fresh = await list.getByRole('listitem').allTextContents();
      regenerated = fresh;
      assert.equal(fresh.length, 10);
      assert.equal(fresh.filter((c) => disabler.recoveryCodes.includes(c)).length, 0);
      await review(page, 'recovery-codes-regenerated-desktop');
      await page.getByLabel('I have saved these codes').check();
      await page.getByRole('button', { name: 'Done' }).click();
      await page.getByText('10 of 10 recovery codes left').waitFor();

      // An old code is dead; a new one works.
      const pending = await f.login(disabler.email, PASSWORD);
      const old = await f.json('POST', '/auth/mfa/verify', pending.cookie!, {
        method: 'recovery_code',
        code: disabler.recoveryCodes[1],
      });
      assert.equal(old.status, 401);
      const current = await f.json('POST', '/auth/mfa/verify', pending.cookie!, {
        method: 'recovery_code',
        code: fresh[0],
      });
      assert.equal(current.status, 200, JSON.stringify(current.body));
      await context.close();
    },
  );

  await t.test('under Required the last method cannot be disabled', async () => {
    const required = await f.json('PUT', '/org/mfa/policy', f.adminCookie, {
      policy: 'required',
      sessions: 'keep',
    });
    assert.equal(required.status, 200, JSON.stringify(required.body));
    const { context, page } = await f.page(disabler.cookie);
    await openSecurityScreen(page, url);
    await page
      .getByText('Your organization requires MFA: keep at least one method enabled.')
      .waitFor();
    await page.getByRole('button', { name: 'More actions for Email' }).click();
    await page.getByRole('menuitem', { name: 'Disable' }).click();
    await page
      .getByText('Your organization requires MFA: you cannot turn off your last method.')
      .waitFor();
    assert.equal(await modal(page).isVisible(), false);
    await review(page, 'user-security-last-method-desktop');
    assert.deepEqual(
      (await f.me(disabler.cookie)).body.mfa.methods.map((m) => m.type),
      ['email'],
    );
    await context.close();
  });

  await t.test('with 2 or fewer recovery codes left, Security warns', async () => {
    // One of the new codes was used at sign-in already; spend 7 more the same way.
    for (const code of regenerated.slice(1, 8)) {
      await f.signIn(disabler.email, PASSWORD, 'recovery_code', code);
    }
    assert.equal((await f.me(disabler.cookie)).body.mfa.recovery_codes_remaining, 2);
    const { context, page } = await f.page(disabler.cookie, PHONE);
    await openSecurityScreen(page, url);
    await page.getByText('2 of 10 recovery codes left').waitFor();
    await page.getByText('Only 2 recovery codes left.').waitFor();
    await review(page, 'user-security-low-codes-phone');
    await context.close();
  });
});

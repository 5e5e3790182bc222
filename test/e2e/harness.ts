import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { TestIdentityProvider } from '../helpers/oidc-provider.ts';
import type { Scope } from '../helpers/scope.ts';
import {
  ServerProcess,
  makeTempDir,
  postJson,
  removeDir,
  repoRoot,
  sessionCookieFrom,
} from '../helpers/process.ts';

export { Authenticator } from '../helpers/authenticator.ts';
export { allStarted, fileScope, type Scope } from '../helpers/scope.ts';

/**
 * Browser tests: a real `portcullis serve` (embedded database, dev outbox for email) and Debian's
 * Chromium driven by playwright-core. Never a downloaded browser.
 */

export const CHROMIUM = process.env.PORTCULLIS_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(repoRoot, 'test-artifacts', 'screenshots');
export const PHONE = { width: 375, height: 740 };
export const DESKTOP = { width: 1280, height: 860 };

/**
 * Where Chromium is missing the browser tests cannot run: they say so and skip, unless
 * PORTCULLIS_REQUIRE_BROWSER is set (CI sets it, so CI never passes without them).
 */
export function skipWithoutBrowser(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return false;
  if (process.env.PORTCULLIS_REQUIRE_BROWSER) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium`);
  }
  t.skip(`Chromium not found at ${CHROMIUM} (apt-get install chromium): browser tests skipped`);
  return true;
}

/** Chromium, closed when `scope` ends; a launch that takes over a minute fails instead of waiting. */
export async function launchBrowser(scope?: Scope): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  scope?.after(() => browser.close());
  return browser;
}

export type Admin = { org: string; orgName: string; email: string; password: string };

/** A running server whose first org and admin exist (made through the setup link's API). */
export class Portcullis {
  readonly server: ServerProcess;
  readonly dataDir: string;
  readonly admin: Admin;

  private constructor(server: ServerProcess, dataDir: string, admin: Admin) {
    this.server = server;
    this.dataDir = dataDir;
    this.admin = admin;
  }

  get url(): string {
    return this.server.baseUrl;
  }

  static async start(t: Scope, admin: Partial<Admin> = {}): Promise<Portcullis> {
    const dataDir = await makeTempDir('portcullis-e2e-');
    // Registered before the start, so that the data dir goes even if the server never comes up.
    let started: ServerProcess | undefined;
    t.after(async () => {
      await started?.stop();
      await removeDir(dataDir);
    });
    // The test identity providers listen on loopback.
    const server = await ServerProcess.start({
      dataDir,
      env: { PORTCULLIS_SSO_ALLOW_LOOPBACK: 'true' },
    });
    started = server;
    const [, token] = await server.waitForOutput(/\/setup#token=([A-Za-z0-9_-]+)/);
    const first: Admin = {
      org: 'acme',
      orgName: 'Acme Corp',
      email: 'ada@acme.test',
      password: 'first admin passphrase',
      ...admin,
    };
    const created = await postJson(`${server.baseUrl}/api/v1/setup`, {
      token,
      org: { slug: first.org, name: first.orgName },
      admin: { email: first.email, name: 'Ada Admin', password: first.password },
    });
    assert.equal(created.status, 201, await created.text());
    return new Portcullis(server, dataDir, first);
  }

  /** The setup link printed at start-up (used once the org exists: setup is then closed). */
  setupLink(): string {
    const match = this.server.stdout.match(/(http:\/\/localhost:\d+\/setup#token=[A-Za-z0-9_-]+)/);
    if (!match?.[1]) throw new Error('no setup link was printed');
    return match[1];
  }

  /** Signs in through the API (no second factor) and returns the session cookie value. */
  async apiSession(email = this.admin.email, password = this.admin.password): Promise<string> {
    const response = await postJson(`${this.url}/api/v1/auth/login`, {
      org: this.admin.org,
      email,
      password,
    });
    const cookie = sessionCookieFrom(response);
    if (!cookie) throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
    return cookie;
  }

  /** Starts a test identity provider and connects the org to it through the API, as admin. */
  async connectIdentityProvider(t: Scope, adminCookie: string): Promise<TestIdentityProvider> {
    const idp = TestIdentityProvider.prepare({
      redirectUris: [`${this.url}/api/v1/auth/sso/callback`],
    });
    t.after(() => idp.stop());
    await idp.open();
    const connected = await this.api('PUT', '/org/sso', adminCookie, {
      issuer: idp.issuer,
      client_id: idp.clientId,
      client_secret: idp.clientSecret,
      allowed_domains: ['acme.test'],
      create_users: false,
    });
    assert.equal(connected.status, 204, await connected.text());
    return idp;
  }

  /** Calls the API as the given session. */
  async api(method: string, path: string, cookie: string, body?: unknown): Promise<Response> {
    return fetch(`${this.url}/api/v1${path}`, {
      method,
      headers: {
        cookie: `portcullis_session=${cookie}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async createUser(
    adminCookie: string,
    user: {
      email: string;
      name: string;
      role?: 'admin' | 'member';
      password?: string;
      sso?: boolean;
    },
  ): Promise<void> {
    const response = await this.api('POST', '/org/users', adminCookie, {
      role: 'member',
      ...user,
    });
    assert.equal(response.status, 201, await response.text());
  }

  /** The 6-digit code in the newest dev-outbox message to this address. */
  async emailedCode(to: string, after = 0): Promise<string> {
    const outbox = join(this.dataDir, 'outbox');
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const files = existsSync(outbox) ? (await readdir(outbox)).sort() : [];
      for (const file of files.reverse()) {
        const text = await readFile(join(outbox, file), 'utf8');
        const code = /verification code is (\d{6})/.exec(text)?.[1];
        if (text.startsWith(`To: ${to}\n`) && code && files.length > after) return code;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no code was emailed to ${to}`);
  }

  /** How many messages the dev outbox holds (to wait for the next one). */
  async outboxCount(): Promise<number> {
    const outbox = join(this.dataDir, 'outbox');
    return existsSync(outbox) ? (await readdir(outbox)).length : 0;
  }

  /** The newest dev-outbox message to this address, whole. */
  async lastMailTo(to: string): Promise<string> {
    const outbox = join(this.dataDir, 'outbox');
    const files = existsSync(outbox) ? (await readdir(outbox)).sort().reverse() : [];
    for (const file of files) {
      const text = await readFile(join(outbox, file), 'utf8');
      if (text.startsWith(`To: ${to}\n`)) return text;
    }
    throw new Error(`no mail to ${to}`);
  }
}

const axeSource = await readFile(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/** axe-core on the page as it is now: no serious or critical violation. */
export async function assertAccessible(page: Page, screen: string): Promise<void> {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(): Promise<{
            violations: {
              id: string;
              impact: string;
              help: string;
              nodes: { target: string[] }[];
            }[];
          }>;
        };
      }
    ).axe;
    const result = await axe.run();
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
      );
  });
  assert.deepEqual(violations, [], `accessibility violations on ${screen}`);
}

/** A screenshot for reviewers, under test-artifacts/ (kept out of git). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Accessibility check and screenshot of a screen, at the page's current size. */
export async function review(page: Page, name: string): Promise<void> {
  await assertAccessible(page, name);
  await screenshot(page, name);
}

export async function newPage(
  browser: Browser,
  viewport = DESKTOP,
): Promise<{ context: BrowserContext; page: Page }> {
  // bypassCSP lets the test inject axe-core; the console itself runs under the real policy.
  const context = await browser.newContext({ viewport, bypassCSP: true });
  const page = await context.newPage();
  return { context, page };
}

/**
 * A page under the console's real Content-Security-Policy (no bypassCSP, so no axe-core on it)
 * that records every violation in any document it loads, from the `securitypolicyviolation`
 * event and from Chromium's own console message.
 */
export async function newPolicyWatchedPage(
  browser: Browser,
  viewport = DESKTOP,
): Promise<{ context: BrowserContext; page: Page; violations: string[] }> {
  const violations: string[] = [];
  const context = await browser.newContext({ viewport });
  await context.exposeFunction('reportPolicyViolation', (text: string) => violations.push(text));
  await context.addInitScript(() => {
    type Violation = { effectiveDirective: string; blockedURI: string; sample: string };
    const page = globalThis as unknown as {
      document: { addEventListener(type: string, listener: (event: Violation) => void): void };
      reportPolicyViolation(text: string): void;
    };
    page.document.addEventListener('securitypolicyviolation', (event) => {
      page.reportPolicyViolation(
        `${event.effectiveDirective} refused ${event.blockedURI || 'inline'} ${event.sample}`,
      );
    });
  });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return { context, page, violations };
}

/** A browser page holding the given session cookie: signed in without the sign-in screens. */
export async function signedInPage(
  browser: Browser,
  portcullis: Portcullis,
  cookie: string,
  viewport = DESKTOP,
): Promise<{ context: BrowserContext; page: Page }> {
  const { context, page } = await newPage(browser, viewport);
  await context.addCookies([{ name: 'portcullis_session', value: cookie, url: portcullis.url }]);
  return { context, page };
}

export async function writeNote(name: string, text: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await writeFile(join(SCREENSHOTS, `${name}.txt`), text);
}

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import {
  passwordChangedMessage,
  passwordResetMessage,
  render,
} from '../../../src/mail/templates.ts';
import type { MfaPolicy } from '../../../src/store/schema.ts';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  sessionCookieOf,
  signIn,
  uniqueSlug,
  withSession,
} from '../../helpers/app.ts';
import { enrollTotp } from '../../helpers/mfa.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * Rule 11, "Forgot password": an emailed single-use link, valid 30 minutes, sets a new password but
 * never skips MFA. The request answers alike whether or not the account exists.
 */

const NEW_PASSWORD = 'a brand new passphrase';
const RESET_SUBJECT = 'reset your password';
const LINK = /^http:\/\/portcullis\.test\/reset-password#token=([A-Za-z0-9_-]{43})$/m;

const store = useTestStore();

/** A fresh app and org (admin + member) under the given policy. */
async function orgWith(t: TestContext, policy: MfaPolicy = 'disabled') {
  const testApp = await createTestApp(store);
  t.after(() => testApp.close());
  const seeded = await seedOrg(testApp.deps);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: policy })
    .where('id', '=', seeded.org.id)
    .execute();
  const { app, mailer } = testApp;
  const memberLogin = (password: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { org: seeded.org.slug, email: seeded.member.email, password },
      // Each sign-in from its own address: only the per-account lock is under test here.
      remoteAddress: randomAddress(),
    });
  const forgotMember = (options: { remoteAddress?: string } = {}) =>
    forgot(app, { org: seeded.org.slug, email: seeded.member.email }, options);
  /** Asks for a link for the member; returns the token from the link that was mailed. */
  const linkForMember = async (): Promise<string> => {
    const before = resetMails().length;
    const response = await forgotMember();
    assert.equal(response.statusCode, 202);
    const mails = resetMails();
    assert.equal(mails.length, before + 1, 'one more reset mail');
    return tokenIn(mails.at(-1)?.text ?? '');
  };
  const resetMails = () =>
    mailer.sent.filter((m) => m.to === seeded.member.email && m.subject.includes(RESET_SUBJECT));
  return { ...testApp, ...seeded, memberLogin, forgotMember, linkForMember, resetMails };
}

function randomAddress(): string {
  const byte = () => Math.floor(Math.random() * 250) + 1;
  return `10.${byte()}.${byte()}.${byte()}`;
}

/** Asks for a link and waits for the work the server does after answering (the mail). */
async function forgot(
  app: FastifyInstance,
  payload: { org: string; email: string },
  options: { remoteAddress?: string; headers?: Record<string, string> } = {},
) {
  const response = await answerOfForgot(app, payload, options);
  await app.backgroundTasks.idle();
  return response;
}

/** The answer alone, as a client sees it. */
function answerOfForgot(
  app: FastifyInstance,
  payload: { org: string; email: string },
  options: { remoteAddress?: string; headers?: Record<string, string> } = {},
) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/auth/password/forgot',
    payload,
    remoteAddress: options.remoteAddress ?? randomAddress(),
    ...(options.headers ? { headers: options.headers } : {}),
  });
}

function reset(app: FastifyInstance, token: string, newPassword = NEW_PASSWORD) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/auth/password/reset',
    payload: { token, new_password: newPassword },
    remoteAddress: randomAddress(),
  });
}

function tokenIn(text: string): string {
  const token = LINK.exec(text)?.[1];
  assert.ok(token, `a reset link in:\n${text}`);
  return token;
}

const INVALID_TOKEN = {
  error: 'invalid_token',
  message: 'This link is not valid or has expired. Ask for a new one.',
};

/** What may differ between two answers that say the same thing. */
const VARYING_HEADERS = new Set([
  'date',
  'x-request-id',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
]);

function comparable(response: LightMyRequestResponse) {
  const headers = Object.fromEntries(
    Object.entries(response.headers).filter(([name]) => !VARYING_HEADERS.has(name)),
  );
  return { status: response.statusCode, headers, body: response.body };
}

// --- Asking for a link. ---

test('forgot password answers the same 202 for an existing account, an unknown email, an unknown org and an SSO user; only the existing account gets a mail', async (t) => {
  const s = await orgWith(t);
  const adminToken = await signIn(s.app, {
    org: s.org.slug,
    email: s.admin.email,
    password: ADMIN_PASSWORD,
  });
  const ssoEmail = `sso@${s.org.slug}.test`;
  const created = await s.app.inject({
    method: 'POST',
    url: '/api/v1/org/users',
    headers: withSession(adminToken),
    payload: { email: ssoEmail, name: 'Sam Sso', role: 'member', sso: true },
  });
  assert.equal(created.statusCode, 201, created.body);
  const mailsBefore = s.mailer.sent.length;

  const existing = await s.forgotMember();
  const unknownEmail = await forgot(s.app, { org: s.org.slug, email: `nobody@${s.org.slug}.test` });
  const unknownOrg = await forgot(s.app, { org: uniqueSlug('nowhere'), email: s.member.email });
  const sso = await forgot(s.app, { org: s.org.slug, email: ssoEmail });

  assert.equal(existing.statusCode, 202);
  assert.equal(existing.body, 'null');
  for (const other of [unknownEmail, unknownOrg, sso]) {
    assert.deepEqual(comparable(other), comparable(existing));
  }
  const sent = s.mailer.sent.slice(mailsBefore);
  assert.equal(sent.length, 1);
  const mail = sent[0]!;
  const link = `http://portcullis.test/reset-password#token=${tokenIn(mail.text)}`;
  assert.deepEqual(mail, render(s.member.email, passwordResetMessage(s.org.name, link, 30)));
  assert.equal(mail.subject, `${s.org.name}: reset your password`);
});

test("the link in the mail uses the configured public URL, never the request's Host header", async (t) => {
  const s = await orgWith(t);

  const response = await forgot(
    s.app,
    { org: s.org.slug, email: s.member.email },
    { headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } },
  );

  assert.equal(response.statusCode, 202);
  const mail = s.mailer.lastTo(s.member.email);
  assert.match(mail.text, LINK);
  assert.ok(!mail.text.includes('evil.example'));
  assert.ok(!mail.html.includes('evil.example'));
});

test('a second request within 60 s sends no second mail, and the first link still works', async (t) => {
  const s = await orgWith(t);
  const token = await s.linkForMember();

  s.clock.advanceSeconds(59);
  const again = await s.forgotMember();

  assert.equal(again.statusCode, 202);
  assert.equal(s.resetMails().length, 1);
  assert.equal((await reset(s.app, token)).statusCode, 204);
});

test('a second request after 60 s mails a new link and makes the first one invalid', async (t) => {
  const s = await orgWith(t);
  const first = await s.linkForMember();

  s.clock.advanceSeconds(60);
  const second = await s.linkForMember();
  assert.notEqual(second, first);

  const stale = await reset(s.app, first);
  assert.equal(stale.statusCode, 400);
  assert.deepEqual(stale.json(), INVALID_TOKEN);
  assert.equal((await reset(s.app, second)).statusCode, 204);
});

// --- Using the link. ---

test('a reset link sets the new password: the old one fails, the new one works', async (t) => {
  const s = await orgWith(t);
  const token = await s.linkForMember();

  const response = await reset(s.app, token);

  assert.equal(response.statusCode, 204);
  assert.equal(response.body, '');
  const old = await s.memberLogin(MEMBER_PASSWORD);
  assert.equal(old.statusCode, 401);
  assert.equal(old.json().error, 'invalid_credentials');
  const fresh = await s.memberLogin(NEW_PASSWORD);
  assert.equal(fresh.statusCode, 200);
  assert.deepEqual(fresh.json(), { status: 'authenticated', aal: 1, methods: [] });
});

test('a reset link works once: the same link again answers 400 invalid_token', async (t) => {
  const s = await orgWith(t);
  const token = await s.linkForMember();
  assert.equal((await reset(s.app, token)).statusCode, 204);

  const again = await reset(s.app, token, 'yet another passphrase');

  assert.equal(again.statusCode, 400);
  assert.deepEqual(again.json(), INVALID_TOKEN);
  assert.equal((await s.memberLogin(NEW_PASSWORD)).statusCode, 200);
});

test('a reset link older than 30 minutes answers 400 invalid_token and the password stays', async (t) => {
  const s = await orgWith(t);
  const token = await s.linkForMember();

  s.clock.advanceSeconds(30 * 60);
  const late = await reset(s.app, token);

  assert.equal(late.statusCode, 400);
  assert.deepEqual(late.json(), INVALID_TOKEN);
  assert.equal((await s.memberLogin(MEMBER_PASSWORD)).statusCode, 200);
});

test('a reset link still works 29 minutes 59 seconds after it was sent', async (t) => {
  const s = await orgWith(t);
  const token = await s.linkForMember();

  s.clock.advanceSeconds(30 * 60 - 1);
  const response = await reset(s.app, token);

  assert.equal(response.statusCode, 204);
});

test('a made-up token answers 400 invalid_token', async (t) => {
  const s = await orgWith(t);

  const response = await reset(s.app, 'A'.repeat(43));

  assert.equal(response.statusCode, 400);
  assert.deepEqual(response.json(), INVALID_TOKEN);
});

test('a weak new password answers 400 weak_password and leaves the link working', async (t) => {
  const s = await orgWith(t);
  const token = await s.linkForMember();

  const weak = await reset(s.app, token, 'short');

  assert.equal(weak.statusCode, 400);
  assert.equal(weak.json().error, 'weak_password');
  assert.equal((await s.memberLogin(MEMBER_PASSWORD)).statusCode, 200);
  assert.equal((await reset(s.app, token)).statusCode, 204);
  assert.equal((await s.memberLogin(NEW_PASSWORD)).statusCode, 200);
});

test('a reset ends every session of the user, and the user is mailed that the password was changed', async (t) => {
  const s = await orgWith(t);
  const memberSession = await signIn(s.app, {
    org: s.org.slug,
    email: s.member.email,
    password: MEMBER_PASSWORD,
  });
  const adminSession = await signIn(s.app, {
    org: s.org.slug,
    email: s.admin.email,
    password: ADMIN_PASSWORD,
  });
  const token = await s.linkForMember();

  assert.equal((await reset(s.app, token)).statusCode, 204);

  const me = await s.app.inject({ url: '/api/v1/me', headers: withSession(memberSession) });
  assert.equal(me.statusCode, 401);
  assert.equal(me.json().error, 'unauthenticated');
  // Only that user's sessions end.
  const admin = await s.app.inject({ url: '/api/v1/me', headers: withSession(adminSession) });
  assert.equal(admin.statusCode, 200);
  assert.deepEqual(
    s.mailer.lastTo(s.member.email),
    render(s.member.email, passwordChangedMessage(s.org.name)),
  );
  assert.equal(s.mailer.lastTo(s.member.email).subject, `${s.org.name}: your password was changed`);
});

test('a reset never skips MFA: a user with an authenticator app is asked for a code at the next sign-in', async (t) => {
  const s = await orgWith(t, 'enabled');
  const login = await s.memberLogin(MEMBER_PASSWORD);
  assert.equal(login.json().status, 'authenticated');
  await enrollTotp(s.app, sessionCookieOf(login), s.clock);
  const token = await s.linkForMember();

  assert.equal((await reset(s.app, token)).statusCode, 204);
  const next = await s.memberLogin(NEW_PASSWORD);

  assert.equal(next.statusCode, 200);
  assert.deepEqual(next.json(), {
    status: 'mfa_required',
    aal: 1,
    methods: ['totp', 'recovery_code'],
  });
});

test('a reset lifts the password lock: an account locked by 10 wrong passwords signs in with the new password at once', async (t) => {
  const s = await orgWith(t);
  for (let attempt = 1; attempt <= 10; attempt += 1) {
    const wrong = await s.memberLogin('not the password');
    assert.equal(wrong.statusCode, 401, `attempt ${attempt}`);
  }
  const locked = await s.memberLogin(MEMBER_PASSWORD);
  assert.equal(locked.statusCode, 429);
  assert.equal(locked.json().error, 'rate_limited');
  // Asking for a link does not lift the lock; using it does.
  const token = await s.linkForMember();
  assert.equal((await s.memberLogin(MEMBER_PASSWORD)).statusCode, 429);

  assert.equal((await reset(s.app, token)).statusCode, 204);
  const fresh = await s.memberLogin(NEW_PASSWORD);

  assert.equal(fresh.statusCode, 200, fresh.body);
  assert.deepEqual(fresh.json(), { status: 'authenticated', aal: 1, methods: [] });
});

// --- What an outsider can learn, and how fast they can ask. ---

test('forgot password takes about as long for an unknown account as for an existing one (figures printed)', async (t) => {
  const s = await orgWith(t);
  const unknown = { org: s.org.slug, email: `nobody@${s.org.slug}.test` };
  const existing = { org: s.org.slug, email: s.member.email };
  const time = async (payload: { org: string; email: string }) => {
    const started = process.hrtime.bigint();
    const response = await answerOfForgot(s.app, payload);
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(response.statusCode, 202);
    await s.app.backgroundTasks.idle();
    return elapsed;
  };
  // Warm-up, then alternate so that drift in the machine's speed hits both alike. The clock moves
  // past the 60 s resend window each time, so every existing-account request issues a link.
  for (let i = 0; i < 3; i += 1) {
    await time(unknown);
    await time(existing);
    s.clock.advanceSeconds(61);
  }
  const existingMs: number[] = [];
  const unknownMs: number[] = [];
  for (let i = 0; i < 20; i += 1) {
    existingMs.push(await time(existing));
    unknownMs.push(await time(unknown));
    s.clock.advanceSeconds(61);
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  console.log(
    `forgot password, mean of 20: existing account ${mean(existingMs).toFixed(2)} ms, unknown account ${mean(unknownMs).toFixed(2)} ms`,
  );
  assert.equal(s.resetMails().length, 23);
});

test('the 61st forgot request from one address within a minute answers 429 rate_limited', async (t) => {
  const s = await orgWith(t);
  const address = '203.0.113.9';
  const payload = { org: s.org.slug, email: `nobody@${s.org.slug}.test` };
  for (let n = 1; n <= 60; n += 1) {
    const response = await forgot(s.app, payload, { remoteAddress: address });
    assert.equal(response.statusCode, 202, `request ${n}`);
  }

  const limited = await forgot(s.app, payload, { remoteAddress: address });

  assert.equal(limited.statusCode, 429);
  assert.equal(limited.json().error, 'rate_limited');
  const retryAfter = limited.json().retry_after;
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `${retryAfter}`);
  // Another address is not held back.
  const other = await forgot(s.app, payload, { remoteAddress: '203.0.113.10' });
  assert.equal(other.statusCode, 202);
});

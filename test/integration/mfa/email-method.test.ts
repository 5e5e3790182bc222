import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { flaggedMethods } from '../../../src/core/factor-methods.ts';
import { createSmtpMailer } from '../../../src/mail/mailer.ts';
import { codeMessage, methodEnabledMessage, render } from '../../../src/mail/templates.ts';
import type { ServiceDeps } from '../../../src/services/deps.ts';
import type { ChallengePurpose, MfaPolicy, User } from '../../../src/store/schema.ts';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  sessionCookieOf,
  withSession,
} from '../../helpers/app.ts';
import { authenticatorCode, enrollTotp, verify } from '../../helpers/mfa.ts';
import {
  codeIn,
  codeMailsTo,
  startSmtpServer,
  waitForMail,
  type TestSmtpServer,
} from '../../helpers/smtp.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * The email method: enrolled by typing the one-time code sent to the account's address, then
 * used to sign in with emailed codes. A code is bound to one user, one session and one purpose; it
 * expires after 5 minutes, works once, allows 5 tries, and a resend voids it. At most one send per
 * 30 s per purpose and 10 an hour per user.
 */

const MAIL_FROM = 'Portcullis <no-reply@portcullis.test>';
const CODE_SUBJECT = 'your verification code';

const store = useTestStore();

type OrgMfa = { policy: MfaPolicy; totp: boolean; email: boolean };

/** A fresh app and org (admin + member) with the given policy and allowed methods. */
async function orgWith(t: TestContext, mfa: OrgMfa) {
  const testApp = await createTestApp(store);
  t.after(() => testApp.close());
  const seeded = await seedOrg(testApp.deps);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: mfa.policy, mfa_methods: flaggedMethods(mfa) })
    .where('id', '=', seeded.org.id)
    .execute();
  const login = (user: User = seeded.member) =>
    testApp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: {
        org: seeded.org.slug,
        email: user.email,
        password: user.id === seeded.admin.id ? ADMIN_PASSWORD : MEMBER_PASSWORD,
      },
    });
  return { ...testApp, ...seeded, login };
}

type Scenario = Awaited<ReturnType<typeof orgWith>>;

const REQUIRED_EMAIL_ONLY: OrgMfa = { policy: 'required', totp: false, email: true };
const REQUIRED_BOTH: OrgMfa = { policy: 'required', totp: true, email: true };

/** From now on the app mails through a real SMTP server (deps is what the routes hold). */
async function mailThroughSmtp(t: TestContext, deps: ServiceDeps, smtp?: TestSmtpServer) {
  const server = smtp ?? (await startSmtpServer(t));
  const mailErrors: Error[] = [];
  deps.mailer = createSmtpMailer(server.url, MAIL_FROM, (error) => mailErrors.push(error));
  return { smtp: server, mailErrors };
}

function post(app: FastifyInstance, token: string, path: string, payload: object = {}) {
  return app.inject({
    method: 'POST',
    url: `/api/v1${path}`,
    headers: withSession(token),
    payload,
  });
}

const emailSetup = (app: FastifyInstance, token: string, payload: object = {}) =>
  post(app, token, '/me/mfa/email/setup', payload);
const emailConfirm = (app: FastifyInstance, token: string, code: string) =>
  post(app, token, '/me/mfa/email/confirm', { code });
const sendCode = (app: FastifyInstance, token: string) =>
  post(app, token, '/auth/verification/email');
const regenerateRecoveryCodes = (app: FastifyInstance, token: string, code: string) =>
  post(app, token, '/me/recovery-codes', { verification: { method: 'email', code } });

/** A right-looking code that is not this one. */
function anotherCode(code: string): string {
  return `${code.slice(0, 5)}${(Number(code[5]) + 1) % 10}`;
}

/**
 * The user (the member by default) signs in under 'required' and enrolls the email method through
 * the recording mailer. Returns the authenticated session and the recovery codes.
 */
async function enrollEmail(s: Scenario, user: User = s.member) {
  const login = await s.login(user);
  assert.equal(login.json().status, 'enrollment_required');
  const pending = sessionCookieOf(login);
  const setup = await emailSetup(s.app, pending);
  assert.equal(setup.statusCode, 202, setup.body);
  const confirm = await emailConfirm(s.app, pending, s.mailer.codeFor(user.email));
  assert.equal(confirm.statusCode, 200, confirm.body);
  return {
    token: sessionCookieOf(confirm),
    recoveryCodes: confirm.json().recovery_codes as string[],
  };
}

/** A member with the email method, and a new sign-in waiting for its second factor. */
async function emailMemberSigningIn(t: TestContext, mfa: OrgMfa = REQUIRED_EMAIL_ONLY) {
  const s = await orgWith(t, mfa);
  const enrolled = await enrollEmail(s);
  const login = await s.login();
  assert.equal(login.json().status, 'mfa_required');
  return { ...s, ...enrolled, pending: sessionCookieOf(login) };
}

/** Asks for a code for this session, expects the 202 and returns the code that was mailed. */
async function codeSentTo(s: Scenario, token: string, user: User = s.member): Promise<string> {
  const sent = await sendCode(s.app, token);
  assert.equal(sent.statusCode, 202, sent.body);
  return s.mailer.codeFor(user.email);
}

function codeMailCount(s: Scenario, user: User = s.member): number {
  return s.mailer.sent.filter((m) => m.to === user.email && m.subject.includes(CODE_SUBJECT))
    .length;
}

async function challengesOf(user: User, purpose?: ChallengePurpose) {
  let query = store.db.selectFrom('email_challenges').selectAll().where('user_id', '=', user.id);
  if (purpose) query = query.where('purpose', '=', purpose);
  return query.execute();
}

async function methodsOf(app: FastifyInstance, token: string): Promise<string[]> {
  const me = await app.inject({ url: '/api/v1/me', headers: withSession(token) });
  assert.equal(me.statusCode, 200);
  return me.json().mfa.methods.map((m: { type: string }) => m.type);
}

// --- The main flow, through a real SMTP server. ---

for (const totp of [false, true]) {
  test(`under required with TOTP ${totp ? 'allowed' : 'disallowed'}, a new member enrolls the email method and signs in with codes that arrive by SMTP`, async (t) => {
    const s = await orgWith(t, { policy: 'required', totp, email: true });
    const { app, clock, org, member } = s;
    const { smtp, mailErrors } = await mailThroughSmtp(t, s.deps);

    const first = await s.login();
    assert.equal(first.statusCode, 200);
    assert.deepEqual(first.json(), { status: 'enrollment_required', aal: 1, methods: [] });
    const pending = sessionCookieOf(first);

    const setup = await emailSetup(app, pending);
    assert.equal(setup.statusCode, 202);
    assert.deepEqual(setup.json(), {
      expires_at: new Date(clock.now().getTime() + 5 * 60_000).toISOString(),
    });
    const setupMails = codeMailsTo(smtp, member.email);
    assert.equal(setupMails.length, 1);
    const setupCode = codeIn(setupMails[0]);
    assert.deepEqual(setupMails[0]?.envelope, {
      from: 'no-reply@portcullis.test',
      to: [member.email],
    });
    assert.equal(setupMails[0]?.headers.get('subject'), `${org.name}: ${CODE_SUBJECT}`);
    assert.equal(
      setupMails[0]?.text,
      render(member.email, codeMessage(org.name, setupCode, 'enroll_email', 5)).text,
    );

    const confirm = await emailConfirm(app, pending, setupCode);
    assert.equal(confirm.statusCode, 200, confirm.body);
    assert.equal(confirm.headers['cache-control'], 'no-store');
    const recoveryCodes: string[] = confirm.json().recovery_codes;
    assert.equal(recoveryCodes.length, 10);
    for (const code of recoveryCodes) assert.match(code, /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    const authenticated = sessionCookieOf(confirm);
    assert.notEqual(authenticated, pending);
    const stale = await app.inject({ url: '/api/v1/me', headers: withSession(pending) });
    assert.equal(stale.statusCode, 401);

    const me = await app.inject({ url: '/api/v1/me', headers: withSession(authenticated) });
    assert.equal(me.statusCode, 200);
    assert.deepEqual(me.json().session, { status: 'authenticated', aal: 2 });
    assert.deepEqual(me.json().mfa, {
      policy: 'required',
      allowed_methods: totp ? ['totp', 'email'] : ['email'],
      methods: [
        {
          type: 'email',
          created_at: clock.now().toISOString(),
          last_used_at: clock.now().toISOString(),
        },
      ],
      recovery_codes_remaining: 10,
    });
    const notice = await waitForMail(smtp, member.email, 'Email verification turned on');
    assert.equal(notice.headers.get('subject'), `${org.name}: Email verification turned on`);

    clock.advanceSeconds(60);
    const second = await s.login();
    assert.equal(second.statusCode, 200);
    assert.deepEqual(second.json(), {
      status: 'mfa_required',
      aal: 1,
      methods: ['email', 'recovery_code'],
    });
    const signingIn = sessionCookieOf(second);

    const sent = await sendCode(app, signingIn);
    assert.equal(sent.statusCode, 202);
    assert.deepEqual(sent.json(), {
      expires_at: new Date(clock.now().getTime() + 5 * 60_000).toISOString(),
    });
    const loginMails = codeMailsTo(smtp, member.email);
    assert.equal(loginMails.length, 2);
    const loginCode = codeIn(loginMails[1]);
    assert.equal(
      loginMails[1]?.text,
      render(member.email, codeMessage(org.name, loginCode, 'login', 5)).text,
    );

    const verified = await verify(app, signingIn, 'email', loginCode);
    assert.equal(verified.statusCode, 200, verified.body);
    assert.deepEqual(verified.json(), { status: 'authenticated', aal: 2 });
    const signedIn = sessionCookieOf(verified);
    assert.notEqual(signedIn, signingIn);
    const finalMe = await app.inject({ url: '/api/v1/me', headers: withSession(signedIn) });
    assert.deepEqual(finalMe.json().session, { status: 'authenticated', aal: 2 });
    assert.deepEqual(mailErrors, []);
  });
}

test('turning on the email method mails the user "Email verification turned on"', async (t) => {
  const s = await orgWith(t, REQUIRED_EMAIL_ONLY);

  await enrollEmail(s);

  assert.deepEqual(
    s.mailer.lastTo(s.member.email),
    render(s.member.email, methodEnabledMessage(s.org.name, 'email')),
  );
  assert.equal(
    s.mailer.lastTo(s.member.email).subject,
    `${s.org.name}: Email verification turned on`,
  );
});

// --- Which codes are refused. ---

test('an emailed sign-in code is refused once 5 minutes have passed', async (t) => {
  const s = await emailMemberSigningIn(t);
  const code = await codeSentTo(s, s.pending);

  s.clock.advanceSeconds(5 * 60);
  const late = await verify(s.app, s.pending, 'email', code);

  assert.equal(late.statusCode, 401);
  assert.equal(late.json().error, 'invalid_code');
});

test('an emailed sign-in code still works 4 minutes 59 seconds after it was sent', async (t) => {
  const s = await emailMemberSigningIn(t);
  const code = await codeSentTo(s, s.pending);

  s.clock.advanceSeconds(5 * 60 - 1);
  const response = await verify(s.app, s.pending, 'email', code);

  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { status: 'authenticated', aal: 2 });
});

test('an emailed step-up code works once: the same code cannot confirm a second action', async (t) => {
  const s = await orgWith(t, REQUIRED_EMAIL_ONLY);
  const { token } = await enrollEmail(s);
  const code = await codeSentTo(s, token);

  const first = await regenerateRecoveryCodes(s.app, token, code);
  assert.equal(first.statusCode, 200, first.body);
  assert.equal(first.json().recovery_codes.length, 10);

  const replay = await regenerateRecoveryCodes(s.app, token, code);
  assert.equal(replay.statusCode, 401);
  assert.equal(replay.json().error, 'invalid_code');
});

test('a sign-in code sent for one session is refused in another session of the same user, and still works in its own', async (t) => {
  const s = await emailMemberSigningIn(t);
  const otherLogin = await s.login();
  assert.equal(otherLogin.json().status, 'mfa_required');
  const other = sessionCookieOf(otherLogin);
  const code = await codeSentTo(s, s.pending);

  const elsewhere = await verify(s.app, other, 'email', code);
  assert.equal(elsewhere.statusCode, 401);
  assert.equal(elsewhere.json().error, 'invalid_code');

  const own = await verify(s.app, s.pending, 'email', code);
  assert.equal(own.statusCode, 200);
  assert.deepEqual(own.json(), { status: 'authenticated', aal: 2 });
});

/** The admin enrolls email; an authenticated session asks to weaken the policy: an org_policy code. */
async function adminWithPolicyCode(t: TestContext) {
  const s = await orgWith(t, REQUIRED_EMAIL_ONLY);
  const { token } = await enrollEmail(s, s.admin);
  const weaken = await post(s.app, token, '/org/mfa/policy/weaken', { policy: 'disabled' });
  assert.equal(weaken.statusCode, 202, weaken.body);
  const policyCode = s.mailer.codeFor(s.admin.email);
  const confirmWeakening = () =>
    post(s.app, token, '/org/mfa/policy/weaken/confirm', {
      request_id: weaken.json().request_id,
      code: policyCode,
    });
  return { ...s, token, policyCode, confirmWeakening };
}

test('a code emailed to confirm weakening the policy does not verify a sign-in', async (t) => {
  const s = await adminWithPolicyCode(t);
  const login = await s.login(s.admin);
  assert.deepEqual(login.json().methods, ['email', 'recovery_code']);

  const response = await verify(s.app, sessionCookieOf(login), 'email', s.policyCode);

  assert.equal(response.statusCode, 401);
  assert.equal(response.json().error, 'invalid_code');
  // Refused for its purpose alone: the code itself is still good for what it was sent for.
  const confirmed = await s.confirmWeakening();
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  assert.deepEqual(confirmed.json(), { policy: 'disabled' });
});

test('a code emailed to confirm weakening the policy does not serve as step-up for a sensitive action', async (t) => {
  const s = await adminWithPolicyCode(t);

  const response = await regenerateRecoveryCodes(s.app, s.token, s.policyCode);

  assert.equal(response.statusCode, 401);
  assert.equal(response.json().error, 'invalid_code');
  const confirmed = await s.confirmWeakening();
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  assert.deepEqual(confirmed.json(), { policy: 'disabled' });
});

test('a code sent to finish signing in does not serve as step-up for a sensitive action', async (t) => {
  const s = await emailMemberSigningIn(t);
  const loginCode = await codeSentTo(s, s.pending);
  // The sign-in is completed another way, leaving the emailed code unused.
  const recovered = await verify(s.app, s.pending, 'recovery_code', s.recoveryCodes[0] as string);
  assert.equal(recovered.statusCode, 200);
  const signedIn = sessionCookieOf(recovered);

  const response = await regenerateRecoveryCodes(s.app, signedIn, loginCode);

  assert.equal(response.statusCode, 401);
  assert.equal(response.json().error, 'invalid_code');
});

// --- Resending and send limits. ---

test('a resend 30 s later voids the first code; the new one works', async (t) => {
  const s = await emailMemberSigningIn(t);
  const first = await codeSentTo(s, s.pending);

  s.clock.advanceSeconds(30);
  const second = await codeSentTo(s, s.pending);
  assert.equal(codeMailCount(s), 3); // the enrollment code and two sign-in codes

  const voided = await verify(s.app, s.pending, 'email', first);
  assert.equal(voided.statusCode, 401);
  assert.equal(voided.json().error, 'invalid_code');
  const current = await verify(s.app, s.pending, 'email', second);
  assert.equal(current.statusCode, 200);
  assert.deepEqual(current.json(), { status: 'authenticated', aal: 2 });
});

test('a resend within 30 s answers 429 rate_limited with retry_after, sends nothing and leaves the first code valid', async (t) => {
  const s = await emailMemberSigningIn(t);
  const first = await codeSentTo(s, s.pending);
  const mailsBefore = codeMailCount(s);

  s.clock.advanceSeconds(10);
  const again = await sendCode(s.app, s.pending);

  assert.equal(again.statusCode, 429);
  assert.deepEqual(again.json(), {
    error: 'rate_limited',
    message: 'Too many attempts. Try again later.',
    retry_after: 20,
  });
  assert.equal(again.headers['retry-after'], '20');
  assert.equal(codeMailCount(s), mailsBefore);
  assert.equal((await challengesOf(s.member, 'login')).length, 1);
  const verified = await verify(s.app, s.pending, 'email', first);
  assert.equal(verified.statusCode, 200);
});

test('the 11th code within an hour answers 429 whatever the purposes; an hour after the first, codes go out again', async (t) => {
  const s = await orgWith(t, REQUIRED_EMAIL_ONLY);
  const start = s.clock.now().getTime();
  // Code 1: the enrollment code (enroll_email), sent at `start`.
  const { token } = await enrollEmail(s);
  const signingIn = sessionCookieOf(await s.login());
  // Codes 2 to 10, 30 s apart, alternating sign-in (login) and step-up (step_up) codes.
  for (let n = 2; n <= 10; n += 1) {
    s.clock.advanceSeconds(30);
    const sent = await sendCode(s.app, n % 2 === 0 ? signingIn : token);
    assert.equal(sent.statusCode, 202, `code ${n}: ${sent.body}`);
  }
  assert.equal(codeMailCount(s), 10);
  assert.deepEqual((await challengesOf(s.member)).map((c) => c.purpose).sort(), [
    'enroll_email',
    ...Array<string>(5).fill('login'),
    ...Array<string>(4).fill('step_up'),
  ]);

  s.clock.advanceSeconds(30);
  const eleventh = await sendCode(s.app, token);
  assert.equal(eleventh.statusCode, 429);
  assert.equal(eleventh.json().error, 'rate_limited');
  // The first code leaves the hour at start + 3600 s; it is now start + 300 s.
  assert.equal(eleventh.json().retry_after, 3300);
  assert.equal(eleventh.headers['retry-after'], '3300');
  assert.equal(codeMailCount(s), 10);

  s.clock.advanceSeconds(3599 - 300);
  assert.equal(s.clock.now().getTime(), start + 3599_000);
  const stillCapped = await sendCode(s.app, token);
  assert.equal(stillCapped.statusCode, 429);
  assert.equal(stillCapped.json().retry_after, 1);

  s.clock.advanceSeconds(1);
  const allowed = await sendCode(s.app, token);
  assert.equal(allowed.statusCode, 202, allowed.body);
  assert.equal(codeMailCount(s), 11);
});

// --- Wrong codes. ---

test('five wrong codes exhaust an enrollment code: the right one is then refused, and a new setup works', async (t) => {
  const s = await orgWith(t, REQUIRED_EMAIL_ONLY);
  const pending = sessionCookieOf(await s.login());
  assert.equal((await emailSetup(s.app, pending)).statusCode, 202);
  const code = s.mailer.codeFor(s.member.email);

  for (let attempt = 1; attempt <= 5; attempt += 1) {
    const wrong = await emailConfirm(s.app, pending, anotherCode(code));
    assert.equal(wrong.statusCode, 401, `attempt ${attempt}`);
    assert.equal(wrong.json().error, 'invalid_code');
  }
  const right = await emailConfirm(s.app, pending, code);
  assert.equal(right.statusCode, 401);
  assert.equal(right.json().error, 'invalid_code');
  assert.deepEqual(await methodsOf(s.app, pending), []);

  s.clock.advanceSeconds(30);
  assert.equal((await emailSetup(s.app, pending)).statusCode, 202);
  const fresh = await emailConfirm(s.app, pending, s.mailer.codeFor(s.member.email));
  assert.equal(fresh.statusCode, 200, fresh.body);
});

test("five wrong codes exhaust a sign-in code even when the user's failure count was reset in between", async (t) => {
  const s = await emailMemberSigningIn(t);
  const code = await codeSentTo(s, s.pending);
  for (let attempt = 1; attempt <= 4; attempt += 1) {
    const wrong = await verify(s.app, s.pending, 'email', anotherCode(code));
    assert.equal(wrong.statusCode, 401, `attempt ${attempt}`);
  }
  // A success elsewhere resets the user's count of consecutive failures, not the code's tries.
  const elsewhere = sessionCookieOf(await s.login());
  const recovered = await verify(s.app, elsewhere, 'recovery_code', s.recoveryCodes[0] as string);
  assert.equal(recovered.statusCode, 200);
  const fifth = await verify(s.app, s.pending, 'email', anotherCode(code));
  assert.equal(fifth.statusCode, 401);

  const right = await verify(s.app, s.pending, 'email', code);

  assert.equal(right.statusCode, 401);
  assert.equal(right.json().error, 'invalid_code');
});

test('wrong emailed codes count toward the shared 5-failure lock: the right code then gets 429 too_many_attempts', async (t) => {
  const s = await emailMemberSigningIn(t);
  const code = await codeSentTo(s, s.pending);
  const wrongRecovery = await verify(s.app, s.pending, 'recovery_code', 'aaaa-aaaa-aaaa-aaaa');
  assert.equal(wrongRecovery.statusCode, 401);
  for (let attempt = 2; attempt <= 5; attempt += 1) {
    const wrong = await verify(s.app, s.pending, 'email', anotherCode(code));
    assert.equal(wrong.statusCode, 401, `attempt ${attempt}`);
    assert.equal(wrong.json().error, 'invalid_code');
  }

  const right = await verify(s.app, s.pending, 'email', code);

  assert.equal(right.statusCode, 429);
  assert.deepEqual(right.json(), {
    error: 'too_many_attempts',
    message: 'Too many wrong codes. Verification is locked for a while.',
    retry_after: 15 * 60,
  });
  assert.equal(right.headers['retry-after'], String(15 * 60));
  // The lock is the user's, not the session's: a step-up elsewhere is locked too.
  const stepUp = await regenerateRecoveryCodes(s.app, s.token, code);
  assert.equal(stepUp.statusCode, 429);
  assert.equal(stepUp.json().error, 'too_many_attempts');
});

// --- Who may set up the email method. ---

test('email setup is refused while the org does not allow the email method: 403 method_not_allowed_by_org, no mail', async (t) => {
  const s = await orgWith(t, { policy: 'required', totp: true, email: false });
  const login = await s.login();
  assert.equal(login.json().status, 'enrollment_required');

  const response = await emailSetup(s.app, sessionCookieOf(login));

  assert.equal(response.statusCode, 403);
  assert.deepEqual(response.json(), {
    error: 'method_not_allowed_by_org',
    message: 'This organization does not allow this method.',
  });
  assert.equal(codeMailCount(s), 0);
  assert.deepEqual(await challengesOf(s.member), []);
});

test('email setup is refused while MFA is disabled: 403 mfa_disabled, no mail', async (t) => {
  const s = await orgWith(t, { policy: 'disabled', totp: true, email: true });
  const login = await s.login();
  assert.equal(login.json().status, 'authenticated');

  const response = await emailSetup(s.app, sessionCookieOf(login));

  assert.equal(response.statusCode, 403);
  assert.deepEqual(response.json(), {
    error: 'mfa_disabled',
    message: 'Multi-factor authentication is disabled for this organization.',
  });
  assert.equal(codeMailCount(s), 0);
  assert.deepEqual(await challengesOf(s.member), []);
});

test('a user who has an authenticator app must step up to add email: 403 verification_required, then a TOTP code lets them', async (t) => {
  const s = await orgWith(t, { policy: 'enabled', totp: true, email: true });
  const login = await s.login();
  assert.equal(login.json().status, 'authenticated');
  const enrolled = await enrollTotp(s.app, sessionCookieOf(login), s.clock);

  const bare = await emailSetup(s.app, enrolled.token);
  assert.equal(bare.statusCode, 403);
  assert.deepEqual(bare.json(), {
    error: 'verification_required',
    message: 'Confirm this action with a verification code.',
    action: 'add_method',
    methods: ['totp', 'recovery_code'],
  });
  assert.equal(codeMailCount(s), 0);

  const stepped = await emailSetup(s.app, enrolled.token, {
    verification: { method: 'totp', code: authenticatorCode(enrolled.secret, s.clock) },
  });
  assert.equal(stepped.statusCode, 202, stepped.body);
  assert.equal(codeMailCount(s), 1);
  const confirm = await emailConfirm(s.app, enrolled.token, s.mailer.codeFor(s.member.email));
  assert.equal(confirm.statusCode, 200, confirm.body);
  assert.equal(confirm.json().recovery_codes.length, 10);
  // Already fully signed in: the session keeps its token.
  assert.equal(
    confirm.cookies.find((c) => c.name === 'portcullis_session'),
    undefined,
  );
  assert.deepEqual(await methodsOf(s.app, enrolled.token), ['email', 'totp']);

  const next = await s.login();
  assert.deepEqual(next.json(), {
    status: 'mfa_required',
    aal: 1,
    methods: ['totp', 'email', 'recovery_code'],
  });
});

test('a session waiting for its second factor cannot start or confirm email setup: 403 mfa_required', async (t) => {
  const s = await orgWith(t, REQUIRED_BOTH);
  const first = await s.login();
  await enrollTotp(s.app, sessionCookieOf(first), s.clock);
  const login = await s.login();
  assert.equal(login.json().status, 'mfa_required');
  const pending = sessionCookieOf(login);

  const setup = await emailSetup(s.app, pending);
  assert.equal(setup.statusCode, 403);
  assert.deepEqual(setup.json(), {
    error: 'mfa_required',
    message: 'Verify your second factor first.',
  });
  const confirm = await emailConfirm(s.app, pending, '123456');
  assert.equal(confirm.statusCode, 403);
  assert.equal(confirm.json().error, 'mfa_required');

  assert.equal(codeMailCount(s), 0);
  assert.deepEqual(await challengesOf(s.member), []);
});

// --- The mail server. ---

test('with the SMTP server down, asking for a sign-in code answers 503 email_unavailable and leaves no challenge; once mail works, a code goes out at once', async (t) => {
  const s = await emailMemberSigningIn(t);
  const down = await startSmtpServer(t);
  await down.close();
  const { mailErrors } = await mailThroughSmtp(t, s.deps, down);

  const response = await sendCode(s.app, s.pending);

  assert.equal(response.statusCode, 503);
  assert.deepEqual(response.json(), {
    error: 'email_unavailable',
    message: 'The email could not be sent. Try again in a moment.',
  });
  assert.deepEqual(await challengesOf(s.member, 'login'), []);
  assert.equal(mailErrors.length, 1);
  assert.match(mailErrors[0]?.message ?? '', /ECONNREFUSED/);

  // No challenge was left behind, so the 30 s resend throttle does not hold the next send.
  const { smtp } = await mailThroughSmtp(t, s.deps);
  const retried = await sendCode(s.app, s.pending);
  assert.equal(retried.statusCode, 202, retried.body);
  const code = codeIn(codeMailsTo(smtp, s.member.email).at(-1));
  const verified = await verify(s.app, s.pending, 'email', code);
  assert.equal(verified.statusCode, 200);
  assert.deepEqual(verified.json(), { status: 'authenticated', aal: 2 });
});

// Rule 5: the verification is consumed by the action it rides with; an action that did not happen
// must not cost a single-use recovery code.

test('an email setup that cannot send its code (mail down, 503) does not spend the recovery code used to step up', async (t) => {
  const s = await orgWith(t, { policy: 'enabled', totp: true, email: true });
  const login = await s.login();
  const enrolled = await enrollTotp(s.app, sessionCookieOf(login), s.clock);
  s.mailer.down = true;

  const response = await emailSetup(s.app, enrolled.token, {
    verification: { method: 'recovery_code', code: enrolled.recoveryCodes[0] },
  });

  assert.equal(response.statusCode, 503);
  assert.equal(response.json().error, 'email_unavailable');
  assert.deepEqual(await challengesOf(s.member), []);
  // Nothing happened, so nothing may be spent: recovery codes are few and single use.
  const me = await s.app.inject({ url: '/api/v1/me', headers: withSession(enrolled.token) });
  assert.equal(me.json().mfa.recovery_codes_remaining, 10);
});

test('an email setup refused by the 30 s resend limit (429) does not spend the recovery code used to step up', async (t) => {
  const s = await orgWith(t, { policy: 'enabled', totp: true, email: true });
  const login = await s.login();
  const enrolled = await enrollTotp(s.app, sessionCookieOf(login), s.clock);
  const first = await emailSetup(s.app, enrolled.token, {
    verification: { method: 'totp', code: authenticatorCode(enrolled.secret, s.clock) },
  });
  assert.equal(first.statusCode, 202, first.body);

  s.clock.advanceSeconds(10);
  const again = await emailSetup(s.app, enrolled.token, {
    verification: { method: 'recovery_code', code: enrolled.recoveryCodes[0] },
  });

  assert.equal(again.statusCode, 429);
  assert.equal(again.json().error, 'rate_limited');
  assert.equal(again.json().retry_after, 20);
  const me = await s.app.inject({ url: '/api/v1/me', headers: withSession(enrolled.token) });
  assert.equal(me.json().mfa.recovery_codes_remaining, 10);
});

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createSmtpMailer } from '../../../src/mail/mailer.ts';
import { codeMessage, render } from '../../../src/mail/templates.ts';
import { createOrgWithAdmin } from '../../../src/services/org/accounts.ts';
import type { Org, User } from '../../../src/store/schema.ts';
import {
  ADMIN_PASSWORD,
  createTestApp,
  seedOrg,
  signIn,
  uniqueSlug,
  withSession,
  type TestApp,
} from '../../helpers/app.ts';
import { enrollTotp } from '../../helpers/mfa.ts';
import { freePort } from '../../helpers/process.ts';
import { codeIn, codeMailsTo, startSmtpServer, type TestSmtpServer } from '../../helpers/smtp.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * Turning MFA off takes a 6-digit code emailed to the acting admin, valid 5 minutes; here end to
 * end through a real SMTP server: the code the admin types is the one that nodemailer delivered
 * over the wire, parsed back out of the RFC 5322 message.
 */

const MAIL_FROM = 'Portcullis <no-reply@portcullis.test>';
const SECOND_ADMIN_PASSWORD = 'second admin passphrase';

const store = useTestStore();

// --- The scenario: an admin of an org whose policy is 'required'. ---

type Scenario = TestApp & {
  org: Org;
  admin: User;
  token: string;
  /** The admin's unused recovery codes, for step-ups. */
  recoveryCodes: string[];
  smtp: TestSmtpServer;
  mailErrors: Error[];
};

/**
 * An org named with non-ASCII letters (so the subject travels RFC 2047-encoded), its admin enrolled
 * with an authenticator app and signed in, then the policy set to 'required'. The app sends its
 * mail through `smtpUrl` (by default a fresh test SMTP server).
 */
async function requiredOrgAdmin(
  t: TestContext,
  options: { smtpUrl?: string; smtp?: TestSmtpServer } = {},
): Promise<Scenario> {
  const smtp = options.smtp ?? (await startSmtpServer(t));
  const testApp = await createTestApp(store);
  t.after(() => testApp.close());
  const slug = uniqueSlug('smtp');
  const created = await createOrgWithAdmin(
    testApp.deps,
    {
      slug,
      name: `Café Zürich ${slug}`,
      admin: { email: `ada@${slug}.test`, name: 'Ada Admin', password: ADMIN_PASSWORD },
    },
    null,
  );
  if (!created.ok) throw new Error(`org: ${created.error}`);
  const { org, admin } = created.value;
  const signedIn = await signIn(testApp.app, {
    org: org.slug,
    email: admin.email,
    password: ADMIN_PASSWORD,
  });
  await setPolicyInDb(org, 'enabled');
  const enrolled = await enrollTotp(testApp.app, signedIn, testApp.clock);
  await setPolicyInDb(org, 'required');
  // Only now to SMTP: the "method turned on" notice of the enrollment is sent without being
  // awaited, and must not race with what a test counts on the SMTP server.
  const mailErrors: Error[] = [];
  // deps is the object the routes hold by reference: the services read deps.mailer on each send.
  testApp.deps.mailer = createSmtpMailer(options.smtpUrl ?? smtp.url, MAIL_FROM, (error) =>
    mailErrors.push(error),
  );
  const recoveryCodes = [...enrolled.recoveryCodes];
  return { ...testApp, org, admin, token: enrolled.token, recoveryCodes, smtp, mailErrors };
}

async function setPolicyInDb(org: Org, policy: 'disabled' | 'enabled' | 'required') {
  await store.db.updateTable('orgs').set({ mfa_policy: policy }).where('id', '=', org.id).execute();
}

/** A second admin of the org, created by the first through the API and signed in. */
async function secondAdmin(scenario: Scenario): Promise<{ user: User; token: string }> {
  const email = `bo@${scenario.org.slug}.test`;
  const response = await scenario.app.inject({
    method: 'POST',
    url: '/api/v1/org/users',
    headers: withSession(scenario.token),
    payload: {
      email,
      name: 'Bo Admin',
      role: 'admin',
      password: SECOND_ADMIN_PASSWORD,
      // A new admin is a sensitive action: the first admin steps up.
      verification: { method: 'recovery_code', code: scenario.recoveryCodes.shift() },
    },
  });
  assert.equal(response.statusCode, 201);
  // Signed in while the policy is 'enabled' and Bo has no factor: a full session at once.
  await setPolicyInDb(scenario.org, 'enabled');
  const token = await signIn(scenario.app, {
    org: scenario.org.slug,
    email,
    password: SECOND_ADMIN_PASSWORD,
  });
  await setPolicyInDb(scenario.org, 'required');
  const user = await store.db
    .selectFrom('users')
    .selectAll()
    .where('id', '=', response.json().user.id)
    .executeTakeFirstOrThrow();
  return { user, token };
}

function requestWeakening(app: FastifyInstance, token: string, policy: string) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/org/mfa/policy/weaken',
    headers: withSession(token),
    payload: { policy },
  });
}

function confirmWeakening(app: FastifyInstance, token: string, requestId: string, code: string) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/org/mfa/policy/weaken/confirm',
    headers: withSession(token),
    payload: { request_id: requestId, code },
  });
}

async function policyOf(app: FastifyInstance, token: string): Promise<string> {
  const response = await app.inject({ url: '/api/v1/org/mfa', headers: withSession(token) });
  assert.equal(response.statusCode, 200);
  return response.json().policy;
}

/** Requests a weakening, expects the 202 and returns the request id and the code that arrived. */
async function weakeningRequested(scenario: Scenario, policy = 'disabled', token?: string) {
  const before = codeMailsTo(scenario.smtp, scenario.admin.email).length;
  const response = await requestWeakening(scenario.app, token ?? scenario.token, policy);
  assert.equal(response.statusCode, 202, response.body);
  const mails = codeMailsTo(scenario.smtp, scenario.admin.email);
  assert.equal(mails.length, before + 1);
  return { requestId: response.json().request_id as string, code: codeIn(mails.at(-1)) };
}

function anotherCode(code: string): string {
  return `${code.slice(0, 5)}${(Number(code[5]) + 1) % 10}`;
}

async function challengesOf(user: User) {
  return store.db
    .selectFrom('email_challenges')
    .selectAll()
    .where('user_id', '=', user.id)
    .execute();
}

async function auditTypes(scenario: Scenario): Promise<string[]> {
  const response = await scenario.app.inject({
    url: '/api/v1/org/audit',
    headers: withSession(scenario.token),
  });
  assert.equal(response.statusCode, 200);
  return response.json().events.map((event: { type: string }) => event.type);
}

// --- The tests. ---

test('asking to disable MFA emails a 6-digit code over SMTP to the acting admin, from the configured address, valid 5 minutes', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, clock, org, admin, token, smtp } = scenario;

  const response = await requestWeakening(app, token, 'disabled');

  assert.equal(response.statusCode, 202);
  const body = response.json();
  assert.deepEqual(Object.keys(body).sort(), ['expires_at', 'request_id']);
  assert.match(body.request_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(body.expires_at, new Date(clock.now().getTime() + 5 * 60_000).toISOString());

  assert.equal(smtp.received.length, 1);
  const mail = smtp.received.at(-1);
  assert.ok(mail);
  const code = codeIn(mail);
  assert.deepEqual(mail.envelope, { from: 'no-reply@portcullis.test', to: [admin.email] });
  assert.equal(mail.headers.get('from'), MAIL_FROM);
  assert.equal(mail.headers.get('to'), admin.email);
  assert.equal(mail.headers.get('subject'), `${org.name}: your verification code`);
  assert.match(mail.headers.get('content-type') ?? '', /^multipart\/alternative;/);
  // What arrived is exactly what the template renders: text and HTML, non-ASCII intact.
  const expected = render(admin.email, codeMessage(org.name, code, 'org_policy', 5));
  assert.equal(mail.text, expected.text);
  assert.equal(mail.html, expected.html);
  assert.match(mail.text, /valid for 5 minutes/);
  assert.equal(scenario.mailErrors.length, 0);

  // Nothing is applied until the code comes back.
  assert.equal(await policyOf(app, token), 'required');
  const [challenge, ...others] = await challengesOf(admin);
  assert.equal(others.length, 0);
  assert.equal(challenge?.id, body.request_id);
  assert.equal(challenge?.purpose, 'org_policy');
  // Only a keyed hash of the code is stored.
  assert.ok(!JSON.stringify(challenge).includes(code));
});

test('a wrong code is refused and changes nothing; the right code disables MFA; the same code cannot be used again', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, token } = scenario;
  const { requestId, code } = await weakeningRequested(scenario);

  const wrong = await confirmWeakening(app, token, requestId, anotherCode(code));
  assert.equal(wrong.statusCode, 401);
  assert.equal(wrong.json().error, 'invalid_code');
  assert.equal(await policyOf(app, token), 'required');

  const right = await confirmWeakening(app, token, requestId, code);
  assert.equal(right.statusCode, 200);
  assert.deepEqual(right.json(), { policy: 'disabled' });
  assert.equal(await policyOf(app, token), 'disabled');

  const replay = await confirmWeakening(app, token, requestId, code);
  assert.equal(replay.statusCode, 401);
  assert.equal(replay.json().error, 'invalid_code');
});

test('a code is refused once 5 minutes have passed, and the policy stays required', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, clock, token } = scenario;
  const { requestId, code } = await weakeningRequested(scenario);

  clock.advanceSeconds(5 * 60);
  const late = await confirmWeakening(app, token, requestId, code);

  assert.equal(late.statusCode, 401);
  assert.equal(late.json().error, 'invalid_code');
  assert.equal(await policyOf(app, token), 'required');
});

test('a code still works 4 minutes 59 seconds after it was sent', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, clock, token } = scenario;
  const { requestId, code } = await weakeningRequested(scenario);

  clock.advanceSeconds(5 * 60 - 1);
  const response = await confirmWeakening(app, token, requestId, code);

  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { policy: 'disabled' });
});

test("another admin of the same org cannot confirm an admin's request, even with the right code", async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, token } = scenario;
  const bo = await secondAdmin(scenario);
  const { requestId, code } = await weakeningRequested(scenario);

  const foreign = await confirmWeakening(app, bo.token, requestId, code);

  assert.equal(foreign.statusCode, 401);
  assert.equal(foreign.json().error, 'invalid_code');
  assert.equal(await policyOf(app, token), 'required');
  // The foreign attempt neither consumed the request nor counted against it.
  const own = await confirmWeakening(app, token, requestId, code);
  assert.equal(own.statusCode, 200);
  assert.deepEqual(own.json(), { policy: 'disabled' });
});

test("an admin of another org cannot confirm an admin's request, even with the right code", async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, token } = scenario;
  const other = await seedOrg(scenario.deps);
  const outsider = await signIn(app, {
    org: other.org.slug,
    email: other.admin.email,
    password: ADMIN_PASSWORD,
  });
  await setPolicyInDb(other.org, 'required');
  const { requestId, code } = await weakeningRequested(scenario);

  const foreign = await confirmWeakening(app, outsider, requestId, code);

  assert.equal(foreign.statusCode, 401);
  assert.equal(foreign.json().error, 'invalid_code');
  assert.equal(await policyOf(app, outsider), 'required');
  assert.equal(await policyOf(app, token), 'required');
  const own = await confirmWeakening(app, token, requestId, code);
  assert.equal(own.statusCode, 200);
});

test('a second request 30 s later voids the first code; the new code works', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, clock, token } = scenario;
  const first = await weakeningRequested(scenario);

  clock.advanceSeconds(30);
  const second = await weakeningRequested(scenario);
  assert.notEqual(second.requestId, first.requestId);

  const voided = await confirmWeakening(app, token, first.requestId, first.code);
  assert.equal(voided.statusCode, 401);
  assert.equal(voided.json().error, 'invalid_code');
  assert.equal(await policyOf(app, token), 'required');

  const current = await confirmWeakening(app, token, second.requestId, second.code);
  assert.equal(current.statusCode, 200);
  assert.deepEqual(current.json(), { policy: 'disabled' });
});

test('a second request within 30 s answers 429 rate_limited with retry_after, sends no mail and leaves the first code valid', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, clock, admin, token, smtp } = scenario;
  const first = await weakeningRequested(scenario);

  clock.advanceSeconds(10);
  const again = await requestWeakening(app, token, 'disabled');

  assert.equal(again.statusCode, 429);
  assert.equal(again.json().error, 'rate_limited');
  assert.equal(again.json().retry_after, 20);
  assert.equal(again.headers['retry-after'], '20');
  assert.equal(codeMailsTo(smtp, admin.email).length, 1);
  assert.equal((await challengesOf(admin)).length, 1);

  const confirmed = await confirmWeakening(app, token, first.requestId, first.code);
  assert.equal(confirmed.statusCode, 200);
  assert.deepEqual(confirmed.json(), { policy: 'disabled' });
});

test('five wrong codes exhaust a request: the right code is then refused', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, token } = scenario;
  const { requestId, code } = await weakeningRequested(scenario);

  for (let attempt = 1; attempt <= 5; attempt += 1) {
    const wrong = await confirmWeakening(app, token, requestId, anotherCode(code));
    assert.equal(wrong.statusCode, 401, `attempt ${attempt}`);
    assert.equal(wrong.json().error, 'invalid_code');
  }
  const right = await confirmWeakening(app, token, requestId, code);

  assert.equal(right.statusCode, 401);
  assert.equal(right.json().error, 'invalid_code');
  assert.equal(await policyOf(app, token), 'required');
});

test('weakening while MFA is disabled answers 409 mfa_not_enabled and sends nothing', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, org, admin, token, smtp } = scenario;
  await setPolicyInDb(org, 'disabled');

  const response = await requestWeakening(app, token, 'disabled');

  assert.equal(response.statusCode, 409);
  assert.equal(response.json().error, 'mfa_not_enabled');
  assert.equal(codeMailsTo(smtp, admin.email).length, 0);
  assert.equal((await challengesOf(admin)).length, 0);
});

test('required → enabled is a weakening, confirmed by the emailed code', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, token } = scenario;
  const { requestId, code } = await weakeningRequested(scenario, 'enabled');

  const response = await confirmWeakening(app, token, requestId, code);

  assert.equal(response.statusCode, 200);
  assert.deepEqual(response.json(), { policy: 'enabled' });
  assert.equal(await policyOf(app, token), 'enabled');
});

test('asking to "weaken" enabled to enabled answers 400 not_a_weakening and sends nothing', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, org, admin, token, smtp } = scenario;
  await setPolicyInDb(org, 'enabled');

  const response = await requestWeakening(app, token, 'enabled');

  assert.equal(response.statusCode, 400);
  assert.equal(response.json().error, 'not_a_weakening');
  assert.equal(codeMailsTo(smtp, admin.email).length, 0);
  assert.equal((await challengesOf(admin)).length, 0);
});

test('the weakening route does not take a strengthening: "required" is an invalid request', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, org, admin, token, smtp } = scenario;
  await setPolicyInDb(org, 'enabled');

  const response = await requestWeakening(app, token, 'required');

  assert.equal(response.statusCode, 400);
  assert.equal(response.json().error, 'invalid_request');
  assert.equal(codeMailsTo(smtp, admin.email).length, 0);
  assert.equal(await policyOf(app, token), 'enabled');
});

test('the policy cannot be weakened without the code: PUT answers 403 email_confirmation_required', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, token } = scenario;

  const response = await app.inject({
    method: 'PUT',
    url: '/api/v1/org/mfa/policy',
    headers: withSession(token),
    payload: { policy: 'enabled', sessions: 'keep' },
  });

  assert.equal(response.statusCode, 403);
  assert.equal(response.json().error, 'email_confirmation_required');
  assert.equal(await policyOf(app, token), 'required');
});

test('with the SMTP server down, the request answers 503 email_unavailable and leaves no challenge and no audit event', async (t) => {
  const smtp = await startSmtpServer(t);
  const scenario = await requiredOrgAdmin(t, { smtp });
  const { app, admin, token } = scenario;
  await smtp.close();

  const response = await requestWeakening(app, token, 'disabled');

  assert.equal(response.statusCode, 503);
  assert.equal(response.json().error, 'email_unavailable');
  assert.deepEqual(await challengesOf(admin), []);
  assert.ok(!(await auditTypes(scenario)).includes('org.mfa_policy_weakening_requested'));
  assert.equal(await policyOf(app, token), 'required');
  assert.equal(scenario.mailErrors.length, 1);
  assert.match(scenario.mailErrors[0]?.message ?? '', /ECONNREFUSED/);
});

test('with SMTP_URL pointing at a closed port, the request answers 503 email_unavailable and leaves nothing behind', async (t) => {
  const scenario = await requiredOrgAdmin(t, { smtpUrl: `smtp://127.0.0.1:${await freePort()}` });
  const { app, admin, token } = scenario;

  const response = await requestWeakening(app, token, 'disabled');

  assert.equal(response.statusCode, 503);
  assert.equal(response.json().error, 'email_unavailable');
  assert.deepEqual(await challengesOf(admin), []);
  assert.ok(!(await auditTypes(scenario)).includes('org.mfa_policy_weakening_requested'));
});

test('when the SMTP server refuses the recipient, the request answers 503 and leaves nothing; once it accepts, a request goes through at once', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, admin, token, smtp } = scenario;
  smtp.rejectRecipients = true;

  const refused = await requestWeakening(app, token, 'disabled');

  assert.equal(refused.statusCode, 503);
  assert.equal(refused.json().error, 'email_unavailable');
  assert.deepEqual(await challengesOf(admin), []);
  assert.ok(!(await auditTypes(scenario)).includes('org.mfa_policy_weakening_requested'));
  assert.equal(codeMailsTo(smtp, admin.email).length, 0);

  // The failed send left no challenge, so it does not count against the 30 s resend throttle.
  smtp.rejectRecipients = false;
  const { requestId, code } = await weakeningRequested(scenario);
  const confirmed = await confirmWeakening(app, token, requestId, code);
  assert.equal(confirmed.statusCode, 200);
  assert.deepEqual(confirmed.json(), { policy: 'disabled' });
});

test('a failed send changes nothing: the code the admin already holds still works', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, clock, token, smtp } = scenario;
  const first = await weakeningRequested(scenario);
  clock.advanceSeconds(30);
  smtp.rejectRecipients = true;

  const refused = await requestWeakening(app, token, 'disabled');
  assert.equal(refused.statusCode, 503);
  assert.equal(refused.json().error, 'email_unavailable');

  const confirmed = await confirmWeakening(app, token, first.requestId, first.code);
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  assert.deepEqual(confirmed.json(), { policy: 'disabled' });
});

test('a request is not applied once the policy changed meanwhile: 409 policy_changed', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, org, token } = scenario;
  const { requestId, code } = await weakeningRequested(scenario);
  await setPolicyInDb(org, 'enabled');

  const response = await confirmWeakening(app, token, requestId, code);

  assert.equal(response.statusCode, 409);
  assert.equal(response.json().error, 'policy_changed');
  assert.equal(await policyOf(app, token), 'enabled');
});

test('an SMTP server that requires authentication gets the credentials from the SMTP URL', async (t) => {
  const smtp = await startSmtpServer(t, { credentials: { user: 'portcullis', pass: 's3cret' } });
  const scenario = await requiredOrgAdmin(t, { smtp });
  const { app, admin, token } = scenario;

  const { requestId, code } = await weakeningRequested(scenario);

  const mail = codeMailsTo(smtp, admin.email).at(-1);
  assert.equal(mail?.user, 'portcullis');
  const confirmed = await confirmWeakening(app, token, requestId, code);
  assert.equal(confirmed.statusCode, 200);
  assert.deepEqual(confirmed.json(), { policy: 'disabled' });
});

test('with wrong SMTP credentials, the request answers 503 email_unavailable and leaves no challenge', async (t) => {
  const smtp = await startSmtpServer(t, { credentials: { user: 'portcullis', pass: 's3cret' } });
  const scenario = await requiredOrgAdmin(t, {
    smtp,
    smtpUrl: smtp.url.replace('s3cret', 'wrong'),
  });
  const { app, admin, token } = scenario;

  const response = await requestWeakening(app, token, 'disabled');

  assert.equal(response.statusCode, 503);
  assert.equal(response.json().error, 'email_unavailable');
  assert.deepEqual(await challengesOf(admin), []);
  assert.equal(smtp.received.length, 0);
  assert.equal(scenario.mailErrors.length, 1);
});

test('the audit log records the request and the change, with the admin as actor and confirmed_by email_code', async (t) => {
  const scenario = await requiredOrgAdmin(t);
  const { app, admin, token } = scenario;
  const { requestId, code } = await weakeningRequested(scenario);
  scenario.clock.advanceSeconds(1);
  const confirmed = await confirmWeakening(app, token, requestId, code);
  assert.equal(confirmed.statusCode, 200);

  const response = await app.inject({ url: '/api/v1/org/audit', headers: withSession(token) });

  assert.equal(response.statusCode, 200);
  const events: { type: string; actor: unknown; details: unknown }[] = response.json().events;
  const byType = (type: string) => events.filter((event) => event.type === type);
  const requested = byType('org.mfa_policy_weakening_requested');
  assert.equal(requested.length, 1);
  assert.deepEqual(requested[0]?.actor, { id: admin.id, email: admin.email });
  assert.deepEqual(requested[0]?.details, { from: 'required', to: 'disabled' });
  const changed = byType('org.mfa_policy_changed');
  assert.equal(changed.length, 1);
  assert.deepEqual(changed[0]?.actor, { id: admin.id, email: admin.email });
  assert.deepEqual(changed[0]?.details, {
    from: 'required',
    to: 'disabled',
    confirmed_by: 'email_code',
  });
  // Newest first: the change comes after the request.
  assert.ok(events.indexOf(changed[0]!) < events.indexOf(requested[0]!));
  // No code, in clear, anywhere in the log.
  assert.ok(!response.body.includes(code));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  sessionCookieOf,
  signIn,
  withSession,
} from '../../helpers/app.ts';
import { authenticatorCode, enrollTotp, setPolicy, verify } from '../../helpers/mfa.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

type Event = {
  type: string;
  actor: { id: string; email: string | null } | null;
  target: { id: string; email: string | null } | null;
  ip: string | null;
  user_agent: string | null;
  details: Record<string, unknown>;
  created_at: string;
};

test('every security event of the org is in the audit log, newest first, with actor and target', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin, member } = await seedOrg(deps);
  const other = await seedOrg(deps);
  const agent = { 'user-agent': 'audit-test/1.0' };
  const login = (email: string, password: string) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: agent,
      remoteAddress: '198.51.100.4',
      payload: { org: org.slug, email, password },
    });

  await login(member.email, 'wrong password!');
  let adminToken = await signIn(app, {
    org: org.slug,
    email: admin.email,
    password: ADMIN_PASSWORD,
  });
  const policy = await setPolicy(app, adminToken, 'required', 'invalidate');
  const adminEnrolled = await enrollTotp(app, sessionCookieOf(policy), clock);
  adminToken = adminEnrolled.token;
  const memberEnrolled = await enrollTotp(
    app,
    sessionCookieOf(await login(member.email, MEMBER_PASSWORD)),
    clock,
  );
  const pending = sessionCookieOf(await login(member.email, MEMBER_PASSWORD));
  await verify(app, pending, 'totp', '000000');
  await verify(app, pending, 'recovery_code', memberEnrolled.recoveryCodes[0] as string);
  await app.inject({
    method: 'PUT',
    url: '/api/v1/org/mfa/methods',
    headers: withSession(adminToken),
    payload: {
      totp: true,
      email: false,
      verification: { method: 'totp', code: authenticatorCode(adminEnrolled.secret, clock) },
    },
  });
  clock.advanceSeconds(30);
  await app.inject({
    method: 'POST',
    url: `/api/v1/org/users/${member.id}/mfa/reset`,
    headers: withSession(adminToken),
    payload: {
      verification: { method: 'totp', code: authenticatorCode(adminEnrolled.secret, clock) },
    },
  });
  // Another org's activity must not show up.
  await signIn(app, { org: other.org.slug, email: other.admin.email, password: ADMIN_PASSWORD });

  const events: Event[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof app.inject>> = await app.inject({
      url: `/api/v1/org/audit?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      headers: withSession(adminToken),
    });
    assert.equal(page.statusCode, 200);
    events.push(...page.json().events);
    cursor = page.json().next_cursor;
  } while (cursor);

  const times = events.map((e) => Date.parse(e.created_at));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => b - a),
    'newest first',
  );
  const find = (type: string, predicate: (e: Event) => boolean = () => true) => {
    const event = events.find((e) => e.type === type && predicate(e));
    assert.ok(event, `${type} missing from ${events.map((e) => e.type).join(', ')}`);
    return event;
  };
  const failedLogin = find('login.failed');
  assert.equal(failedLogin.target?.email, member.email);
  assert.equal(failedLogin.ip, '198.51.100.4');
  assert.equal(failedLogin.user_agent, 'audit-test/1.0');
  assert.equal(
    find('login.succeeded', (e) => e.actor?.id === member.id).target?.email,
    member.email,
  );
  assert.deepEqual(find('org.mfa_policy_changed').details, {
    from: 'disabled',
    to: 'required',
    sessions: 'invalidate',
  });
  assert.equal(find('org.mfa_policy_changed').actor?.email, admin.email);
  assert.equal(find('mfa.enrolled', (e) => e.target?.id === member.id).actor?.email, member.email);
  assert.equal(find('mfa.verification_failed').target?.email, member.email);
  assert.equal(
    find('mfa.verified', (e) => e.details.method === 'recovery_code').target?.email,
    member.email,
  );
  assert.deepEqual(find('mfa.recovery_code_used').details, { purpose: 'login', remaining: 9 });
  assert.equal(find('org.mfa_methods_changed').actor?.email, admin.email);
  const reset = find('mfa.reset');
  assert.equal(reset.actor?.email, admin.email);
  assert.equal(reset.target?.email, member.email);
  assert.ok(events.every((e) => e.actor?.email !== other.admin.email));
});

test('members cannot read the audit log', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, member } = await seedOrg(deps);
  const token = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  const response = await app.inject({ url: '/api/v1/org/audit', headers: withSession(token) });
  assert.equal(response.statusCode, 403);
});

test('the audit log filters by event type and by user (as actor or target)', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin, member } = await seedOrg(deps);
  await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: org.slug, email: member.email, password: 'wrong password!' },
  });
  const token = await signIn(app, { org: org.slug, email: admin.email, password: ADMIN_PASSWORD });
  const list = async (query: string) =>
    (await app.inject({ url: `/api/v1/org/audit?${query}`, headers: withSession(token) })).json()
      .events as Event[];
  const failures = await list('type=login.failed');
  assert.deepEqual(
    failures.map((e) => [e.type, e.target?.email]),
    [['login.failed', member.email]],
  );
  const aboutMember = await list(`user=${member.id}`);
  assert.deepEqual(aboutMember.map((e) => e.type).sort(), ['login.failed', 'user.created']);
  const bad = await app.inject({ url: '/api/v1/org/audit?user=nope', headers: withSession(token) });
  assert.equal(bad.statusCode, 400);
});

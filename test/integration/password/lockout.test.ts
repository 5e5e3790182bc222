import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUTH_REQUESTS_PER_IP_PER_MINUTE,
  PASSWORD_LOCK_SECONDS,
  PASSWORD_MAX_FAILURES,
} from '../../../src/core/limits.ts';
import { ADMIN_PASSWORD, createTestApp, seedOrg } from '../../helpers/app.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

function login(app: Awaited<ReturnType<typeof createTestApp>>['app'], payload: object) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload,
    // Each guess from another address: the per-account lock must not depend on the IP.
    remoteAddress: `10.0.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
  });
}

test('the 11th bad password gets 429 for 15 minutes, even with the right password', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  const wrong = { org: org.slug, email: admin.email, password: 'not the password' };
  for (let i = 0; i < PASSWORD_MAX_FAILURES; i += 1) {
    assert.equal((await login(app, wrong)).statusCode, 401, `attempt ${i + 1}`);
  }
  const locked = await login(app, { ...wrong, password: ADMIN_PASSWORD });
  assert.equal(locked.statusCode, 429);
  assert.equal(locked.json().error, 'rate_limited');
  assert.equal(locked.json().retry_after, PASSWORD_LOCK_SECONDS);
  assert.equal(locked.headers['retry-after'], String(PASSWORD_LOCK_SECONDS));

  clock.advanceSeconds(PASSWORD_LOCK_SECONDS - 1);
  const stillLocked = await login(app, { ...wrong, password: ADMIN_PASSWORD });
  assert.equal(stillLocked.statusCode, 429);
  assert.equal(stillLocked.json().retry_after, 1);
  clock.advanceSeconds(1);
  assert.equal((await login(app, { ...wrong, password: ADMIN_PASSWORD })).statusCode, 200);
});

test('a success resets the count of consecutive failures', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  const wrong = { org: org.slug, email: admin.email, password: 'not the password' };
  for (let i = 0; i < PASSWORD_MAX_FAILURES - 1; i += 1) await login(app, wrong);
  assert.equal((await login(app, { ...wrong, password: ADMIN_PASSWORD })).statusCode, 200);
  for (let i = 0; i < PASSWORD_MAX_FAILURES - 1; i += 1) {
    assert.equal((await login(app, wrong)).statusCode, 401);
  }
  assert.equal((await login(app, { ...wrong, password: ADMIN_PASSWORD })).statusCode, 200);
});

test('an unknown account locks exactly like a real one, so the lock reveals nothing', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org } = await seedOrg(deps);
  const ghost = { org: org.slug, email: 'ghost@nowhere.test', password: 'not the password' };
  for (let i = 0; i < PASSWORD_MAX_FAILURES; i += 1) {
    assert.equal((await login(app, ghost)).statusCode, 401);
  }
  assert.equal((await login(app, ghost)).statusCode, 429);
});

test('parallel guesses cannot overshoot the limit', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  let verifications = 0;
  const passwords = deps.passwords;
  deps.passwords = {
    ...passwords,
    verify: (hash, password) => {
      verifications += 1;
      return passwords.verify(hash, password);
    },
  };
  const wrong = { org: org.slug, email: admin.email, password: 'not the password' };
  const answers = await Promise.all(Array.from({ length: 40 }, () => login(app, wrong)));
  const statuses = answers.map((a) => a.statusCode);
  assert.equal(statuses.filter((s) => s === 401).length, PASSWORD_MAX_FAILURES);
  assert.equal(statuses.filter((s) => s === 429).length, 40 - PASSWORD_MAX_FAILURES);
  assert.equal(verifications, PASSWORD_MAX_FAILURES);
});

test('the lock is one account’s: another user of the org still signs in', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin, member } = await seedOrg(deps);
  for (let i = 0; i <= PASSWORD_MAX_FAILURES; i += 1) {
    await login(app, { org: org.slug, email: admin.email, password: 'nope nope nope' });
  }
  const other = await login(app, {
    org: org.slug,
    email: member.email,
    password: 'member password 42',
  });
  assert.equal(other.statusCode, 200);
});

test('failed sign-ins and the lock are written to the audit log', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  for (let i = 0; i < PASSWORD_MAX_FAILURES; i += 1) {
    await login(app, { org: org.slug, email: admin.email, password: 'nope nope nope' });
  }
  const events = await store.db
    .selectFrom('audit_events')
    .select(['type', 'target_user_id'])
    .where('org_id', '=', org.id)
    .where('type', 'in', ['login.failed', 'login.locked'])
    .execute();
  assert.equal(events.filter((e) => e.type === 'login.failed').length, PASSWORD_MAX_FAILURES);
  assert.equal(events.filter((e) => e.type === 'login.locked').length, 1);
  assert.ok(events.every((e) => e.target_user_id === admin.id));
});

test('one address is limited on the sign-in route whatever accounts it tries', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org } = await seedOrg(deps);
  const statuses: number[] = [];
  for (let i = 0; i < AUTH_REQUESTS_PER_IP_PER_MINUTE + 1; i += 1) {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '192.0.2.7',
      payload: { org: org.slug, email: `user${i}@nowhere.test`, password: 'not the password' },
    });
    statuses.push(response.statusCode);
  }
  assert.equal(statuses.filter((s) => s === 401).length, AUTH_REQUESTS_PER_IP_PER_MINUTE);
  const last = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress: '192.0.2.7',
    payload: { org: org.slug, email: 'x@nowhere.test', password: 'not the password' },
  });
  assert.equal(last.statusCode, 429);
  assert.equal(last.json().error, 'rate_limited');
  assert.ok(last.json().retry_after > 0);
});

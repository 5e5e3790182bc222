import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errors } from 'oidc-provider';
import { payloadAdapter } from '../../../src/services/provider/adapter.ts';
import { pruneExpired } from '../../../src/services/pruning.ts';
import { createTestApp, seedOrg } from '../../helpers/app.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * The OpenID Provider's state lives in the database, one org's issuer apart from another's: the
 * storage contract oidc-provider relies on, on PGlite or PostgreSQL.
 */

const store = useTestStore();

async function twoOrgs(t: { after(fn: () => unknown): void }) {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const one = await seedOrg(deps);
  const other = await seedOrg(deps);
  const adapter = (model: string, org = one.org) => payloadAdapter(deps, org.id, model);
  return { deps, clock, one, other, adapter };
}

test('an object saved is found by its id, in its own org and model only', async (t) => {
  const { other, adapter } = await twoOrgs(t);
  const payload = { jti: 'code-1', grantId: 'grant-1', kind: 'AuthorizationCode', iat: 1 };
  await adapter('AuthorizationCode').upsert('code-1', payload, 60);
  assert.deepEqual(await adapter('AuthorizationCode').find('code-1'), payload);
  assert.equal(await adapter('AuthorizationCode', other.org).find('code-1'), undefined);
  assert.equal(await adapter('AccessToken').find('code-1'), undefined);

  // Saved again: the new payload replaces the old one.
  await adapter('AuthorizationCode').upsert('code-1', { ...payload, iat: 2 }, 60);
  assert.equal((await adapter('AuthorizationCode').find('code-1'))?.iat, 2);
});

test('a session is found by its uid and a device code by its user code, in their own org only', async (t) => {
  const { other, adapter } = await twoOrgs(t);
  await adapter('Session').upsert('session-1', { jti: 'session-1', uid: 'uid-1' }, 600);
  assert.equal((await adapter('Session').findByUid('uid-1'))?.jti, 'session-1');
  assert.equal(await adapter('Session', other.org).findByUid('uid-1'), undefined);
  assert.equal(await adapter('Session').findByUid('uid-2'), undefined);

  await adapter('DeviceCode').upsert('device-1', { jti: 'device-1', userCode: 'ABCD-EFGH' }, 600);
  assert.equal((await adapter('DeviceCode').findByUserCode('ABCD-EFGH'))?.jti, 'device-1');
  assert.equal(await adapter('DeviceCode', other.org).findByUserCode('ABCD-EFGH'), undefined);
});

test('an object is gone once its lifetime has passed, and pruning deletes it', async (t) => {
  const { deps, clock, one, adapter } = await twoOrgs(t);
  await adapter('Interaction').upsert('short', { jti: 'short' }, 60);
  await adapter('Grant').upsert('long', { jti: 'long' }, 3600);
  await adapter('Grant').upsert('forever', { jti: 'forever' });
  clock.advanceSeconds(59);
  assert.equal((await adapter('Interaction').find('short'))?.jti, 'short');
  clock.advanceSeconds(1);
  assert.equal(await adapter('Interaction').find('short'), undefined);
  assert.equal((await adapter('Grant').find('long'))?.jti, 'long');

  const pruned = await pruneExpired(deps);
  assert.ok(pruned.oidc_payloads! >= 1);
  const left = await store.db
    .selectFrom('oidc_payloads')
    .select('id')
    .where('org_id', '=', one.org.id)
    .orderBy('id')
    .execute();
  assert.deepEqual(
    left.map((row) => row.id),
    ['forever', 'long'],
  );
});

test('a consumed code says so when found, and stays consumed when saved again', async (t) => {
  const { adapter } = await twoOrgs(t);
  const codes = adapter('AuthorizationCode');
  await codes.upsert('code-1', { jti: 'code-1', grantId: 'grant-1' }, 60);
  assert.equal((await codes.find('code-1'))?.consumed, undefined);
  await codes.consume('code-1');
  const consumed = await codes.find('code-1');
  assert.equal(typeof consumed?.consumed, 'number');
  await codes.upsert('code-1', { jti: 'code-1', grantId: 'grant-1' }, 60);
  assert.equal(typeof (await codes.find('code-1'))?.consumed, 'number');
});

test('a second redemption of a code is refused and revokes everything its grant issued', async (t) => {
  const { adapter, other } = await twoOrgs(t);
  await adapter('Grant').upsert('grant-1', { jti: 'grant-1', kind: 'Grant' }, 3600);
  await adapter('AuthorizationCode').upsert('code-1', { jti: 'code-1', grantId: 'grant-1' }, 60);
  await adapter('AccessToken').upsert('at-1', { jti: 'at-1', grantId: 'grant-1' }, 600);
  await adapter('RefreshToken').upsert('rt-1', { jti: 'rt-1', grantId: 'grant-1' }, 3600);
  await adapter('AccessToken').upsert('at-2', { jti: 'at-2', grantId: 'grant-2' }, 600);
  // The same ids in another org are that org's own and are left alone.
  await adapter('Grant', other.org).upsert('grant-1', { jti: 'grant-1' }, 3600);
  await adapter('AccessToken', other.org).upsert('at-1', { jti: 'at-1', grantId: 'grant-1' }, 600);

  await adapter('AuthorizationCode').consume('code-1');
  await assert.rejects(adapter('AuthorizationCode').consume('code-1'), errors.InvalidGrant);

  assert.equal(await adapter('Grant').find('grant-1'), undefined);
  assert.equal(await adapter('AccessToken').find('at-1'), undefined);
  assert.equal(await adapter('RefreshToken').find('rt-1'), undefined);
  assert.equal(await adapter('AuthorizationCode').find('code-1'), undefined);
  assert.equal((await adapter('AccessToken').find('at-2'))?.jti, 'at-2');
  assert.equal((await adapter('Grant', other.org).find('grant-1'))?.jti, 'grant-1');
  assert.equal((await adapter('AccessToken', other.org).find('at-1'))?.jti, 'at-1');
});

test('of two redemptions of one code at the same time, exactly one succeeds', async (t) => {
  const { deps, one, adapter } = await twoOrgs(t);
  // Another instance: its own connection pool on the same database (on PostgreSQL).
  const twin = await store.twin();
  t.after(() => twin.close());
  const elsewhere = payloadAdapter(
    { db: twin.db, clock: deps.clock },
    one.org.id,
    'AuthorizationCode',
  );
  await adapter('AuthorizationCode').upsert('code-1', { jti: 'code-1', grantId: 'grant-1' }, 60);
  const outcomes = await Promise.allSettled([
    adapter('AuthorizationCode').consume('code-1'),
    elsewhere.consume('code-1'),
  ]);
  assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
});

test('a code that does not exist cannot be consumed', async (t) => {
  const { adapter } = await twoOrgs(t);
  await assert.rejects(adapter('AuthorizationCode').consume('nothing'), errors.InvalidGrant);
});

test('destroy deletes one object; revoking a grant deletes that model’s objects of the grant', async (t) => {
  const { adapter } = await twoOrgs(t);
  await adapter('Session').upsert('session-1', { jti: 'session-1', uid: 'uid-1' }, 600);
  await adapter('Session').destroy('session-1');
  assert.equal(await adapter('Session').find('session-1'), undefined);
  assert.equal(await adapter('Session').findByUid('uid-1'), undefined);

  const tokens = adapter('AccessToken');
  await tokens.upsert('at-1', { jti: 'at-1', grantId: 'grant-1' }, 600);
  await tokens.upsert('at-2', { jti: 'at-2', grantId: 'grant-1' }, 600);
  await tokens.upsert('at-3', { jti: 'at-3', grantId: 'grant-2' }, 600);
  await adapter('RefreshToken').upsert('rt-1', { jti: 'rt-1', grantId: 'grant-1' }, 600);
  await tokens.revokeByGrantId('grant-1');
  assert.equal(await tokens.find('at-1'), undefined);
  assert.equal(await tokens.find('at-2'), undefined);
  assert.equal((await tokens.find('at-3'))?.jti, 'at-3');
  assert.equal((await adapter('RefreshToken').find('rt-1'))?.jti, 'rt-1');
});

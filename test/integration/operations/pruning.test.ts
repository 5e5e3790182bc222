import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { passwordCounterKey } from '../../../src/services/session/auth.ts';
import { pruneExpired } from '../../../src/services/pruning.ts';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  signIn,
  withSession,
} from '../../helpers/app.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

async function countFor(table: string, column: string, value: string): Promise<number> {
  const result = await sql<{ count: string }>`select count(*) from ${sql.table(table)}
    where ${sql.ref(column)} = ${value}`.execute(store.db);
  return Number(result.rows[0]?.count);
}

test('pruning deletes sessions idle past the limit and keeps the ones still in use', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const { org, admin, member } = await seedOrg(deps);
  const idle = await signIn(app, { org: org.slug, email: member.email, password: MEMBER_PASSWORD });
  const active = await signIn(app, { org: org.slug, email: admin.email, password: ADMIN_PASSWORD });
  for (let minutes = 0; minutes < 70; minutes += 10) {
    clock.advanceSeconds(10 * 60);
    const me = await app.inject({ method: 'GET', url: '/api/v1/me', headers: withSession(active) });
    assert.equal(me.statusCode, 200);
  }
  const pruned = await pruneExpired(deps);
  assert.ok(pruned.sessions! >= 1);
  assert.equal(await countFor('sessions', 'user_id', member.id), 0, 'the idle session is gone');
  assert.equal(await countFor('sessions', 'user_id', admin.id), 1, 'the active one is kept');
  const me = await app.inject({ method: 'GET', url: '/api/v1/me', headers: withSession(active) });
  assert.equal(me.statusCode, 200);
  const dead = await app.inject({ method: 'GET', url: '/api/v1/me', headers: withSession(idle) });
  assert.equal(dead.statusCode, 401);
});

test('expired reset links and failure counters are kept a day, for the send limits, then deleted', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const { org, member } = await seedOrg(deps);
  const forgot = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/password/forgot',
    payload: { org: org.slug, email: member.email },
  });
  assert.equal(forgot.statusCode, 202);
  await app.backgroundTasks.idle();
  const wrong = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { org: org.slug, email: member.email, password: 'not the password' },
  });
  assert.equal(wrong.statusCode, 401);
  assert.equal(await countFor('password_reset_tokens', 'user_id', member.id), 1);
  const counterKey = passwordCounterKey(org.slug, member.email);
  const counters = () => countFor('attempt_counters', 'key', counterKey);
  assert.equal(await counters(), 1);

  clock.advanceSeconds(60 * 60);
  await pruneExpired(deps);
  assert.equal(await countFor('password_reset_tokens', 'user_id', member.id), 1, 'an hour: kept');
  assert.equal(await counters(), 1, 'an hour: the failure still counts');

  clock.advanceSeconds(24 * 60 * 60);
  const pruned = await pruneExpired(deps);
  assert.ok(pruned.password_reset_tokens! >= 1 && pruned.attempt_counters! >= 1);
  assert.equal(await countFor('password_reset_tokens', 'user_id', member.id), 0);
  assert.equal(await counters(), 0);
});

test('pruning a backlog larger than one batch removes all of it', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const { org, member } = await seedOrg(deps);
  const longAgo = new Date(clock.now().getTime() - 3 * 60 * 60 * 1000);
  await sql`insert into sessions (token_hash, user_id, org_id, status, aal, org_epoch, user_epoch,
      created_at, last_seen_at, auth_time, acr, amr)
    select 'backlog-' || ${member.id}::text || '-' || i, ${member.id}, ${org.id}, 'authenticated',
      1, 0, 0, ${longAgo}, ${longAgo}, ${longAgo}, 'urn:portcullis:acr:1fa', '["pwd"]'::jsonb
    from generate_series(1, 2500) as i`.execute(store.db);
  const pruned = await pruneExpired(deps);
  assert.ok(pruned.sessions! >= 2500);
  assert.equal(await countFor('sessions', 'user_id', member.id), 0);
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateToken, hashToken } from '../../src/core/tokens.ts';
import { invalidateOrgSessions, invalidateUserSessions } from '../../src/services/sessions.ts';
import type { Org, User } from '../../src/store/schema.ts';
import { ADMIN_PASSWORD, createTestApp, seedOrg, signIn, withSession } from '../helpers/app.ts';
import { openTestStore } from '../helpers/store.ts';

let store: Awaited<ReturnType<typeof openTestStore>>;
before(async () => {
  store = await openTestStore();
});
after(async () => {
  await store.dispose();
});

const MANY = 3000;

/** Thousands of live sessions, written straight to the table (signing in 3000 times is slow). */
async function manySessions(org: Org, users: User[], count: number, now: Date): Promise<string[]> {
  const tokens = Array.from({ length: count }, () => generateToken(randomBytes, 32));
  const rows = tokens.map((token, i) => {
    const user = users[i % users.length] as User;
    return {
      token_hash: hashToken(token),
      user_id: user.id,
      org_id: org.id,
      status: 'authenticated' as const,
      aal: 1,
      org_epoch: org.session_epoch,
      user_epoch: user.session_epoch,
      created_at: now,
      last_seen_at: now,
      ip: null,
      user_agent: null,
    };
  });
  for (let i = 0; i < rows.length; i += 500) {
    await store.db
      .insertInto('sessions')
      .values(rows.slice(i, i + 500))
      .execute();
  }
  return tokens;
}

async function statuses(app: Awaited<ReturnType<typeof createTestApp>>['app'], tokens: string[]) {
  const counts = new Map<number, number>();
  for (let i = 0; i < tokens.length; i += 100) {
    const answers = await Promise.all(
      tokens
        .slice(i, i + 100)
        .map((token) => app.inject({ url: '/api/v1/me', headers: withSession(token) })),
    );
    for (const a of answers) counts.set(a.statusCode, (counts.get(a.statusCode) ?? 0) + 1);
  }
  return Object.fromEntries(counts);
}

test('an org-wide invalidation ends thousands of sessions at once, and only that org’s', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const acme = await seedOrg(deps);
  const other = await seedOrg(deps);
  const acmeTokens = await manySessions(acme.org, [acme.admin, acme.member], MANY, clock.now());
  const otherTokens = await manySessions(other.org, [other.member], 200, clock.now());
  assert.deepEqual(await statuses(app, acmeTokens.slice(0, 50)), { 200: 50 });

  await invalidateOrgSessions(deps, {
    orgId: acme.org.id,
    actorUserId: acme.admin.id,
    reason: 'test',
  });

  assert.deepEqual(await statuses(app, acmeTokens), { 401: MANY });
  assert.deepEqual(await statuses(app, otherTokens), { 200: 200 });
  // A sign-in after the invalidation works as usual.
  const fresh = await signIn(app, {
    org: acme.org.slug,
    email: acme.admin.email,
    password: ADMIN_PASSWORD,
  });
  assert.deepEqual(await statuses(app, [fresh]), { 200: 1 });
});

test('the org-wide invalidation is one row update, whatever the number of sessions', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const acme = await seedOrg(deps);
  await manySessions(acme.org, [acme.member], MANY, clock.now());
  const writes: string[] = [];
  const recordingDb = store.db.withPlugin({
    transformQuery: ({ node }) => {
      if (node.kind !== 'SelectQueryNode') writes.push(node.kind);
      return node;
    },
    transformResult: async ({ result }) => result,
  });
  await invalidateOrgSessions(
    { ...deps, db: recordingDb },
    { orgId: acme.org.id, actorUserId: null, reason: 'test' },
  );
  // One update of the org row, plus the audit event; no session row is touched.
  assert.deepEqual(writes, ['UpdateQueryNode', 'InsertQueryNode']);
  const org = await store.db
    .selectFrom('orgs')
    .select('session_epoch')
    .where('id', '=', acme.org.id)
    .executeTakeFirstOrThrow();
  assert.equal(org.session_epoch, acme.org.session_epoch + 1);
});

test('a user-wide invalidation ends every session of that user and no one else’s', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const acme = await seedOrg(deps);
  const memberTokens = await manySessions(acme.org, [acme.member], MANY, clock.now());
  const adminTokens = await manySessions(acme.org, [acme.admin], 100, clock.now());

  await invalidateUserSessions(deps, {
    orgId: acme.org.id,
    userId: acme.member.id,
    actorUserId: acme.admin.id,
    reason: 'test',
  });

  assert.deepEqual(await statuses(app, memberTokens), { 401: MANY });
  assert.deepEqual(await statuses(app, adminTokens), { 200: 100 });
  const events = await store.db
    .selectFrom('audit_events')
    .select(['type', 'details'])
    .where('org_id', '=', acme.org.id)
    .where('type', '=', 'sessions.invalidated')
    .execute();
  assert.deepEqual(
    events.map((e) => e.details),
    [{ scope: 'user', reason: 'test' }],
  );
});

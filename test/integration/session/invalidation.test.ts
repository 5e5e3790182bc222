import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  invalidateOrgSessions,
  invalidateUserSessions,
} from '../../../src/services/session/sessions.ts';
import { ADMIN_PASSWORD, createTestApp, seedOrg, signIn, withSession } from '../../helpers/app.ts';
import { manySessions, meStatuses } from '../../helpers/sessions.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

const MANY = 3000;

test('an org-wide invalidation ends thousands of sessions at once, and only that org’s', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const acme = await seedOrg(deps);
  const other = await seedOrg(deps);
  const acmeTokens = await manySessions(
    store.db,
    acme.org,
    [acme.admin, acme.member],
    MANY,
    clock.now(),
  );
  const otherTokens = await manySessions(store.db, other.org, [other.member], 200, clock.now());
  assert.deepEqual(await meStatuses(app, acmeTokens.slice(0, 50)), { 200: 50 });

  await invalidateOrgSessions(deps, {
    orgId: acme.org.id,
    actorUserId: acme.admin.id,
    reason: 'test',
  });

  assert.deepEqual(await meStatuses(app, acmeTokens), { 401: MANY });
  assert.deepEqual(await meStatuses(app, otherTokens), { 200: 200 });
  // A sign-in after the invalidation works as usual.
  const fresh = await signIn(app, {
    org: acme.org.slug,
    email: acme.admin.email,
    password: ADMIN_PASSWORD,
  });
  assert.deepEqual(await meStatuses(app, [fresh]), { 200: 1 });
});

/** The first table a query names. */
function tableOf(node: unknown): string {
  return /"kind":"TableNode".*?"name":"([^"]+)"/.exec(JSON.stringify(node))?.[1] ?? '?';
}

test('the org-wide invalidation is one row update, whatever the number of sessions', async (t) => {
  const { app, deps, clock } = await createTestApp(store);
  t.after(() => app.close());
  const acme = await seedOrg(deps);
  await manySessions(store.db, acme.org, [acme.member], MANY, clock.now());
  const writes: string[] = [];
  const recordingDb = store.db.withPlugin({
    transformQuery: ({ node }) => {
      if (node.kind !== 'SelectQueryNode') writes.push(`${node.kind} ${tableOf(node)}`);
      return node;
    },
    transformResult: async ({ result }) => result,
  });
  await invalidateOrgSessions(
    { ...deps, db: recordingDb },
    { orgId: acme.org.id, actorUserId: null, reason: 'test' },
  );
  // What the org's provider issued goes, then one update of the org row and the audit event; no
  // session row is touched.
  assert.deepEqual(writes, [
    'DeleteQueryNode oidc_payloads',
    'UpdateQueryNode orgs',
    'InsertQueryNode audit_events',
  ]);
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
  const memberTokens = await manySessions(store.db, acme.org, [acme.member], MANY, clock.now());
  const adminTokens = await manySessions(store.db, acme.org, [acme.admin], 100, clock.now());

  await invalidateUserSessions(deps, {
    orgId: acme.org.id,
    userId: acme.member.id,
    actorUserId: acme.admin.id,
    reason: 'test',
  });

  assert.deepEqual(await meStatuses(app, memberTokens), { 401: MANY });
  assert.deepEqual(await meStatuses(app, adminTokens), { 200: 100 });
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

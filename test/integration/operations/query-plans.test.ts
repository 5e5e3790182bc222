import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompiledQuery,
  sql,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type RootOperationNode,
  type QueryId,
} from 'kysely';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  signIn,
  withSession,
} from '../../helpers/app.ts';
import { createUser } from '../../../src/services/org/accounts.ts';
import { pruneExpired } from '../../../src/services/pruning.ts';
import { enrollTotp, authenticatorCode, setPolicy, verify } from '../../helpers/mfa.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * Every query on the hot paths (sign-in, second factor, /me, the users list, org-wide
 * invalidation) and of the pruning job can be served by an index. Each query the server runs on
 * those paths is captured as it goes out, then explained with sequential scans disabled: a plan
 * that still holds a sequential scan has no index to use. Small test tables would make the
 * planner prefer a scan anyway, which is why the setting is off for the check.
 */

type Captured = { node: RootOperationNode; queryId: QueryId };

class QueryRecorder implements KyselyPlugin {
  recording = false;
  readonly queries: Captured[] = [];
  transformQuery({ node, queryId }: PluginTransformQueryArgs): RootOperationNode {
    if (this.recording) this.queries.push({ node, queryId });
    return node;
  }
  async transformResult<T>(args: { result: T }): Promise<T> {
    return args.result;
  }
}

const store = useTestStore();

test('every query of sign-in, verification, /me, the users list, invalidation and pruning uses an index', async (t) => {
  const recorder = new QueryRecorder();
  const recorded = { ...store, db: store.db.withPlugin(recorder) };
  const { app, deps, clock } = await createTestApp(recorded);
  t.after(() => app.close());
  const { org, admin, member } = await seedOrg(deps);
  let adminToken = await signIn(app, {
    org: org.slug,
    email: admin.email,
    password: ADMIN_PASSWORD,
  });
  const enabled = await setPolicy(app, adminToken, 'enabled');
  assert.equal(enabled.statusCode, 200, enabled.body);
  adminToken = enabled.cookies.find((c) => c.name === 'portcullis_session')?.value ?? adminToken;
  adminToken = (await enrollTotp(app, adminToken, clock)).token;
  const memberToken = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  const { secret } = await enrollTotp(app, memberToken, clock);

  recorder.recording = true;
  const pending = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  const verified = await verify(app, pending, 'totp', authenticatorCode(secret, clock));
  assert.equal(verified.statusCode, 200, verified.body);
  const fullToken = verified.cookies.find((c) => c.name === 'portcullis_session')?.value ?? pending;
  const another = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  const wrong = await verify(app, another, 'totp', '000000');
  assert.ok(wrong.statusCode >= 400);
  const me = await app.inject({
    method: 'GET',
    url: '/api/v1/me',
    headers: withSession(fullToken),
  });
  assert.equal(me.statusCode, 200, me.body);
  for (const query of ['', '?mfa=enrolled', '?mfa=not_enrolled', '?limit=1']) {
    const page = await app.inject({
      method: 'GET',
      url: `/api/v1/org/users${query}`,
      headers: withSession(adminToken),
    });
    assert.equal(page.statusCode, 200, page.body);
  }
  const invalidated = await setPolicy(app, adminToken, 'required', 'invalidate');
  assert.equal(invalidated.statusCode, 200, invalidated.body);
  await pruneExpired(deps);
  recorder.recording = false;

  const executor = store.db.getExecutor();
  const checked = new Set<string>();
  const scans: string[] = [];
  await store.db.connection().execute(async (connection) => {
    await sql`set enable_seqscan = off`.execute(connection);
    try {
      for (const { node, queryId } of recorder.queries) {
        const compiled = executor.compileQuery(node, queryId);
        if (!/\b(from|update|delete)\b/i.test(compiled.sql) || checked.has(compiled.sql)) continue;
        checked.add(compiled.sql);
        const explained = await connection.executeQuery<{ 'QUERY PLAN': unknown }>(
          CompiledQuery.raw(`explain (format json) ${compiled.sql}`, [...compiled.parameters]),
        );
        const plan = JSON.stringify(explained.rows[0]?.['QUERY PLAN']);
        for (const [, table] of plan.matchAll(
          /"Node Type":"Seq Scan"[^}]*?"Relation Name":"(\w+)"/g,
        )) {
          scans.push(`${table}: ${compiled.sql}`);
        }
      }
    } finally {
      await sql`reset enable_seqscan`.execute(connection);
    }
  });
  t.diagnostic(`${checked.size} distinct queries explained`);
  assert.ok(checked.size >= 10, `only ${checked.size} queries were captured`);
  assert.deepEqual(scans, [], 'queries without an index');
});

test('a page of users or of audit events costs the same number of queries at 1 row as at 50', async (t) => {
  const recorder = new QueryRecorder();
  const recorded = { ...store, db: store.db.withPlugin(recorder) };
  const { app, deps } = await createTestApp(recorded);
  t.after(() => app.close());
  const { org, admin } = await seedOrg(deps);
  for (let i = 0; i < 60; i += 1) {
    const created = await createUser(
      deps,
      org,
      { email: `u${i}@${org.slug}.test`, name: `User ${i}`, role: 'member', password: null },
      { userId: admin.id, origin: null },
    );
    assert.ok(created.ok);
  }
  const token = await signIn(app, { org: org.slug, email: admin.email, password: ADMIN_PASSWORD });
  const queriesFor = async (url: string) => {
    recorder.queries.length = 0;
    recorder.recording = true;
    const response = await app.inject({ method: 'GET', url, headers: withSession(token) });
    recorder.recording = false;
    assert.equal(response.statusCode, 200, response.body);
    return recorder.queries.length;
  };
  for (const list of ['/api/v1/org/users', '/api/v1/org/audit']) {
    const one = await queriesFor(`${list}?limit=1`);
    const fifty = await queriesFor(`${list}?limit=50`);
    t.diagnostic(`${list}: ${one} queries for 1 row, ${fifty} for 50`);
    assert.equal(fifty, one, `${list} runs a query per row`);
  }
});

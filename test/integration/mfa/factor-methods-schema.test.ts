import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { MFA_METHODS } from '../../../src/core/factor-methods.ts';
import { FACTORS } from '../../../src/services/mfa/registry.ts';
import { openStore, type Store } from '../../../src/store/db.ts';
import { migrateBefore } from '../../../src/store/migrate.ts';

/*
 * Migration 0010: the org's allowed methods are a set of names on the org row instead of a
 * boolean column per method, each org keeping what it allowed; and the database holds a user to
 * one factor per method only for the methods that allow one. The migration's SQL is plain
 * PostgreSQL; it runs here on the embedded database, from the schema as it was before it.
 */

let store: Store;
before(async () => {
  store = await openStore({ kind: 'pglite', dataDir: null });
});
after(() => store.close());

const now = new Date('2026-12-01T10:00:00Z');

test('each org keeps the methods it allowed, and MFA on still needs one', async () => {
  const { error } = await migrateBefore(store.db, '0010-factor-methods');
  assert.equal(error, undefined);
  const before = [
    { slug: 'both', mfa_policy: 'required', totp_allowed: true, email_allowed: true },
    { slug: 'app-only', mfa_policy: 'enabled', totp_allowed: true, email_allowed: false },
    { slug: 'email-only', mfa_policy: 'required', totp_allowed: false, email_allowed: true },
    { slug: 'none', mfa_policy: 'disabled', totp_allowed: false, email_allowed: false },
  ];
  for (const org of before) {
    await sql`insert into orgs (slug, name, mfa_policy, totp_allowed, email_allowed, created_at)
      values (${org.slug}, ${org.slug}, ${org.mfa_policy}, ${org.totp_allowed},
        ${org.email_allowed}, ${now})`.execute(store.db);
  }

  await store.migrate();

  const rows = await store.db
    .selectFrom('orgs')
    .select(['slug', 'mfa_methods'])
    .orderBy('slug')
    .execute();
  assert.deepEqual(rows, [
    { slug: 'app-only', mfa_methods: ['totp'] },
    { slug: 'both', mfa_methods: ['totp', 'email'] },
    { slug: 'email-only', mfa_methods: ['email'] },
    { slug: 'none', mfa_methods: [] },
  ]);
  const columns = await sql<{ name: string }>`select column_name as name
    from information_schema.columns where table_name = 'orgs' order by name`.execute(store.db);
  assert.ok(!columns.rows.some((c) => c.name.endsWith('_allowed')), 'no column per method left');

  // The rule the old constraint held: while MFA is on, at least one method is allowed.
  await assert.rejects(
    store.db
      .updateTable('orgs')
      .set({ mfa_policy: 'enabled' })
      .where('slug', '=', 'none')
      .execute(),
    /orgs_a_method_while_mfa_on/,
  );
  await assert.rejects(
    store.db.updateTable('orgs').set({ mfa_methods: [] }).where('slug', '=', 'both').execute(),
    /orgs_a_method_while_mfa_on/,
  );
  const created = await store.db
    .insertInto('orgs')
    .values({ slug: 'new', name: 'New', created_at: now })
    .returning('mfa_methods')
    .executeTakeFirstOrThrow();
  assert.deepEqual(created.mfa_methods, ['totp', 'email'], 'a new org allows every method');
});

test('TOTP and email stay one per user; a method that allows several gets one row per factor, each labelled', async () => {
  const org = await store.db
    .insertInto('orgs')
    .values({ slug: 'factors', name: 'Factors', created_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  const user = await store.db
    .insertInto('users')
    .values({
      org_id: org.id,
      email: 'a@example.test',
      email_key: 'a@example.test',
      name: 'A',
      role: 'member',
      password_hash: 'x',
      created_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const addActive = (type: string, label: string | null) =>
    sql`insert into factors (user_id, org_id, type, state, secret_ciphertext, label, created_at,
        activated_at)
      values (${user.id}, ${org.id}, ${type}, 'active', 'sealed', ${label}, ${now}, ${now})`.execute(
      store.db,
    );

  // Every method whose strategy says one per user is held to one by the database.
  const single = MFA_METHODS.filter((method) => !FACTORS[method].multiplePerUser);
  assert.deepEqual(single, ['totp', 'email']);
  for (const method of single) {
    await addActive(method, null);
    await assert.rejects(addActive(method, 'a second one'), /factors_one_per_user_type_state/);
  }

  // A method outside that list (as passkeys will be) may have several, each with its label.
  await addActive('several_per_user', 'YubiKey 5C');
  await addActive('several_per_user', 'Laptop');
  const labels = await store.db
    .selectFrom('factors')
    .select('label')
    .where('user_id', '=', user.id)
    .where('type', '=', 'several_per_user' as never)
    .orderBy('label')
    .execute();
  assert.deepEqual(
    labels.map((row) => row.label),
    ['Laptop', 'YubiKey 5C'],
  );
});

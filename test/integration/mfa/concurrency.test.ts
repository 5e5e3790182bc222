import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { MEMBER_PASSWORD, createTestApp, seedOrg, sessionCookieOf } from '../../helpers/app.ts';
import { authenticatorCode, enrollTotp, verify } from '../../helpers/mfa.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

const PARALLEL = 20;

/**
 * Signs in one after the other (parallel sign-ins of one account would meet the password lock's
 * in-flight limit), alternating instances; the verifications are what runs in parallel.
 */
async function signInOnBoth(
  first: FastifyInstance,
  second: FastifyInstance,
  login: (app: FastifyInstance) => Promise<string>,
) {
  const sessions: string[] = [];
  for (let i = 0; i < PARALLEL; i += 1) sessions.push(await login(i % 2 === 0 ? first : second));
  return sessions;
}

/** Two server instances on one database (on PostgreSQL, two connection pools), one enrolled member. */
async function twoInstances() {
  const first = await createTestApp(store);
  const twin = await store.twin();
  const second = await createTestApp(twin, { clock: first.clock });
  second.deps.keys = first.deps.keys;
  const seeded = await seedOrg(first.deps);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'required' })
    .where('id', '=', seeded.org.id)
    .execute();
  const login = async (app = first.app) =>
    sessionCookieOf(
      await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { org: seeded.org.slug, email: seeded.member.email, password: MEMBER_PASSWORD },
      }),
    );
  const enrolled = await enrollTotp(first.app, await login(), first.clock);
  const close = async () => {
    await first.app.close();
    await second.app.close();
  };
  return { first, second, login, enrolled, close, member: seeded.member };
}

test('the same TOTP code sent in parallel to two instances succeeds exactly once', async (t) => {
  const { first, second, login, enrolled, close } = await twoInstances();
  t.after(close);
  const sessions = await signInOnBoth(first.app, second.app, login);
  const code = authenticatorCode(enrolled.secret, first.clock);
  const answers = await Promise.all(
    sessions.map((token, i) => verify(i % 2 === 0 ? first.app : second.app, token, 'totp', code)),
  );
  const statuses = answers.map((a) => a.statusCode);
  assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
  assert.ok(
    statuses.every((s) => s === 200 || s === 401 || s === 429),
    statuses.join(','),
  );
});

test('the same recovery code sent in parallel to two instances succeeds exactly once', async (t) => {
  const { first, second, login, enrolled, close, member } = await twoInstances();
  t.after(close);
  const sessions = await signInOnBoth(first.app, second.app, login);
  const code = enrolled.recoveryCodes[0] as string;
  const answers = await Promise.all(
    sessions.map((token, i) =>
      verify(i % 2 === 0 ? first.app : second.app, token, 'recovery_code', code),
    ),
  );
  const statuses = answers.map((a) => a.statusCode);
  assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
  const unused = await store.db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', member.id)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  assert.equal(Number(unused.n), 9);
});

test('parallel wrong guesses cannot exceed the 5-failure lock', async (t) => {
  const { first, second, login, close } = await twoInstances();
  t.after(close);
  const sessions = await signInOnBoth(first.app, second.app, login);
  const answers = await Promise.all(
    sessions.map((token, i) =>
      verify(i % 2 === 0 ? first.app : second.app, token, 'totp', String(100000 + i)),
    ),
  );
  const statuses = answers.map((a) => a.statusCode);
  assert.equal(statuses.filter((s) => s === 401).length, 5, statuses.join(','));
  assert.equal(statuses.filter((s) => s === 429).length, PARALLEL - 5, statuses.join(','));
});

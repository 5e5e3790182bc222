import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  InsertQueryNode,
  TableNode,
  UpdateQueryNode,
  type KyselyPlugin,
  type OperationNode,
} from 'kysely';
import { errorMessages } from '../../../src/core/errors.ts';
import { TRANSACTION_RETRIES } from '../../../src/core/limits.ts';
import { markIrreversible, userTransaction } from '../../../src/store/transaction.ts';
import {
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  signIn,
  withSession,
  type TestApp,
} from '../../helpers/app.ts';
import { ManualClock } from '../../helpers/clock.ts';
import { enrollTotp } from '../../helpers/mfa.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * A sensitive action whose transaction meets a deadlock or a serialization failure runs again, a
 * bounded number of times: it commits once and its notification goes out once. A conflict that
 * outlasts the retries answers 503 busy with a Retry-After, never a 500.
 */

const store = useTestStore();

function deadlock(): Error {
  return Object.assign(new Error('deadlock detected'), { code: '40P01' });
}

type Write = 'insert' | 'update';

function writesTo(node: OperationNode, write: Write, table: string): boolean {
  const target =
    write === 'insert'
      ? InsertQueryNode.is(node) && node.into
      : UpdateQueryNode.is(node) && node.table;
  return !!target && TableNode.is(target) && target.table.identifier.name === table;
}

/** A database that answers "deadlock detected" to the next `times` inserts or updates of a table. */
class ConflictingDatabase {
  thrown = 0;
  private rule: { write: Write; table: string; left: number } | null = null;
  readonly plugin: KyselyPlugin = {
    transformQuery: ({ node }) => {
      const rule = this.rule;
      if (rule && rule.left > 0 && writesTo(node, rule.write, rule.table)) {
        rule.left -= 1;
        this.thrown += 1;
        throw deadlock();
      }
      return node;
    },
    transformResult: async ({ result }) => result,
  };

  conflictOn(write: Write, table: string, times: number): void {
    this.rule = { write, table, left: times };
  }
}

/** A signed-in member of a new org, on an app whose database conflicts when told to. */
async function signedInMember(t: TestContext) {
  const conflicts = new ConflictingDatabase();
  const testApp = await createTestApp({ ...store, db: store.db.withPlugin(conflicts.plugin) });
  t.after(() => testApp.close());
  const seeded = await seedOrg(testApp.deps);
  const credentials = {
    org: seeded.org.slug,
    email: seeded.member.email,
    password: MEMBER_PASSWORD,
  };
  const token = await signIn(testApp.app, credentials);
  return { testApp, conflicts, seeded, credentials, token };
}

function post(testApp: TestApp, token: string, url: string, payload: object) {
  return testApp.app.inject({
    method: 'POST',
    url: `/api/v1${url}`,
    headers: withSession(token),
    payload,
  });
}

function mailsTo(testApp: TestApp, address: string, subject: string) {
  return testApp.mailer.sent.filter((m) => m.to === address && m.subject.endsWith(subject));
}

async function auditCount(userId: string, type: string): Promise<number> {
  const rows = await store.db
    .selectFrom('audit_events')
    .select('id')
    .where('actor_user_id', '=', userId)
    .where('type', '=', type)
    .execute();
  return rows.length;
}

test('a password change that meets two deadlocks runs again, commits once and notifies once', async (t) => {
  const { testApp, conflicts, seeded, token } = await signedInMember(t);
  conflicts.conflictOn('update', 'users', 2);
  const response = await post(testApp, token, '/me/password', {
    current_password: MEMBER_PASSWORD,
    new_password: 'a passphrase after two deadlocks',
  });
  assert.equal(response.statusCode, 204, response.body);
  assert.equal(conflicts.thrown, 2);
  assert.equal(await auditCount(seeded.member.id, 'password.changed'), 1);
  assert.equal(mailsTo(testApp, seeded.member.email, 'your password was changed').length, 1);
});

test('a conflict that outlasts the retries answers 503 busy with a Retry-After and changes nothing', async (t) => {
  const { testApp, conflicts, seeded, credentials, token } = await signedInMember(t);
  conflicts.conflictOn('update', 'users', Infinity);
  const response = await post(testApp, token, '/me/password', {
    current_password: MEMBER_PASSWORD,
    new_password: 'a passphrase that never lands',
  });
  assert.equal(response.statusCode, 503, response.body);
  assert.deepEqual(response.json(), { error: 'busy', message: errorMessages.busy, retry_after: 1 });
  assert.equal(response.headers['retry-after'], '1');
  assert.equal(conflicts.thrown, 1 + TRANSACTION_RETRIES);
  assert.equal(await auditCount(seeded.member.id, 'password.changed'), 0);
  assert.equal(mailsTo(testApp, seeded.member.email, 'your password was changed').length, 0);
  conflicts.conflictOn('update', 'users', 0);
  await signIn(testApp.app, credentials);
});

test('a recovery code spent in a step-up that is run again is spent once and announced once', async (t) => {
  const { testApp, conflicts, seeded, token } = await signedInMember(t);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'enabled' })
    .where('id', '=', seeded.org.id)
    .execute();
  const enrolled = await enrollTotp(testApp.app, token, testApp.clock);
  // The step-up spends the code, then the new set's insert meets a deadlock: the whole run is
  // undone, code included, and the second run spends it again.
  conflicts.conflictOn('insert', 'recovery_codes', 1);
  const response = await post(testApp, enrolled.token, '/me/recovery-codes', {
    verification: { method: 'recovery_code', code: enrolled.recoveryCodes[0] },
  });
  assert.equal(response.statusCode, 200, response.body);
  assert.equal(conflicts.thrown, 1);
  assert.equal(await auditCount(seeded.member.id, 'mfa.recovery_code_used'), 1);
  assert.equal(mailsTo(testApp, seeded.member.email, 'a recovery code was used').length, 1);
});

test('a recovery code spent in a step-up whose action is rolled back is given back, and never announced', async (t) => {
  const { testApp, conflicts, seeded, token } = await signedInMember(t);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'enabled' })
    .where('id', '=', seeded.org.id)
    .execute();
  const enrolled = await enrollTotp(testApp.app, token, testApp.clock);
  const verification = { method: 'recovery_code', code: enrolled.recoveryCodes[0] };
  // The step-up spends the code, then every run of the action meets a deadlock: all undone.
  conflicts.conflictOn('insert', 'recovery_codes', Infinity);
  const refused = await post(testApp, enrolled.token, '/me/recovery-codes', { verification });
  assert.equal(refused.statusCode, 503, refused.body);
  assert.equal(conflicts.thrown, 1 + TRANSACTION_RETRIES);
  assert.equal(await auditCount(seeded.member.id, 'mfa.recovery_code_used'), 0);
  assert.equal(mailsTo(testApp, seeded.member.email, 'a recovery code was used').length, 0);

  // The code was given back: it still works, and only now is the user told of it.
  conflicts.conflictOn('insert', 'recovery_codes', 0);
  const stepped = await post(testApp, enrolled.token, '/me/recovery-codes', { verification });
  assert.equal(stepped.statusCode, 200, stepped.body);
  assert.equal(mailsTo(testApp, seeded.member.email, 'a recovery code was used').length, 1);
});

test('a run that did something outside the database, or failed otherwise, is not run again', async (t) => {
  const { seeded } = await signedInMember(t);
  let runs = 0;
  await assert.rejects(
    userTransaction(store.db, [seeded.member.id], async (tx) => {
      runs += 1;
      markIrreversible(tx);
      throw deadlock();
    }),
    { code: '40P01' },
  );
  assert.equal(runs, 1);
  await assert.rejects(
    userTransaction(store.db, [seeded.member.id], async () => {
      runs += 1;
      throw new Error('not a conflict');
    }),
    { message: 'not a conflict' },
  );
  assert.equal(runs, 2);
});

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  MFA_LOCK_SECONDS,
  MFA_MAX_FAILURES,
  PASSWORD_LOCK_SECONDS,
  PASSWORD_MAX_FAILURES,
} from '../../src/core/limits.ts';
import { EMAIL_CODE_MAX_ATTEMPTS } from '../../src/core/email-codes.ts';
import { passwordCounterKey } from '../../src/services/session/auth.ts';
import { RecoveryCodes, recoveryVerification } from './attack-helpers.ts';
import { Service, skipWithoutPostgres, type Client } from './harness.ts';
import {
  assertOnlyKinds,
  burst,
  counterOf,
  emailMember,
  resetToken,
  show,
  signInMany,
  signInPending,
  successes,
  tally,
  totpMember,
  wrongTotpCodes,
  type Answer,
} from './load-helpers.ts';

/*
 * Replay and races: a single-use secret (TOTP code, recovery code, emailed code, reset link,
 * weakening code) sent dozens of times at once is accepted exactly once, and parallel wrong
 * guesses cannot take more tries than a lock allows. Every scenario runs against one instance
 * and, on PostgreSQL, against two instances sharing the database (requests alternate between them).
 */

const PARALLEL = 30;

type Setup = { service: Service; admin: Client; adminCodes: RecoveryCodes; instances: number };

/** The index of the one answer that succeeded. */
function winnerOf(answers: Answer[]): number {
  assert.equal(successes(answers), 1, `exactly one success: ${show(answers)}`);
  return answers.findIndex((a) => a.status >= 200 && a.status < 300);
}

async function meOf(client: Client) {
  const response = await client.get('/me');
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as {
    session: { status: string; aal: number };
    mfa: { policy: string; recovery_codes_remaining: number };
  };
}

/** Asserts every 429 of a lock carries a retry time within the lock's length, body and header. */
function assertRetryAfter(answers: Answer[], responses: Response[], lockSeconds: number) {
  answers.forEach((answer, i) => {
    if (answer.status !== 429) return;
    const seconds = (answer.body as { retry_after?: number }).retry_after ?? 0;
    assert.ok(seconds > 0 && seconds <= lockSeconds, `retry_after ${seconds}`);
    assert.equal(responses[i]?.headers.get('retry-after'), String(seconds));
  });
}

/**
 * One code sent PARALLEL times at once on copies of one pre-MFA session (alternating instances):
 * exactly one copy signs in; the others meet a spent code, a replaced token or the lock.
 */
async function signsInOnceFromCopies(
  session: Client,
  instances: number,
  method: 'totp' | 'email',
  code: string,
) {
  const copies = Array.from({ length: PARALLEL }, (_, i) => session.on(i % instances));
  const answers = await burst(copies.map((copy) => () => copy.verify(method, code)));
  const winner = winnerOf(answers);
  assertOnlyKinds(answers, [
    '200',
    '401 invalid_code',
    '401 unauthenticated',
    '429 too_many_attempts',
  ]);
  assert.deepEqual((await meOf(copies[winner]!)).session, { status: 'authenticated', aal: 2 });
}

/**
 * PARALLEL wrong guesses at once: exactly `tries` of them were judged wrong and all the others met
 * the lock, each with a retry time within the lock's length.
 */
function assertLockTookExactly(
  burst: { answers: Answer[]; responses: Response[] },
  [wrong, locked]: [string, string],
  lock: { tries: number; lockSeconds: number },
) {
  assert.deepEqual(
    tally(burst.answers),
    { [wrong]: lock.tries, [locked]: PARALLEL - lock.tries },
    show(burst.answers),
  );
  assertRetryAfter(burst.answers, burst.responses, lock.lockSeconds);
}

/** Sends every request at once and keeps the responses too (for their headers). */
async function burstWithResponses(requests: (() => Promise<Response>)[]) {
  const responses = await Promise.all(requests.map((send) => send()));
  const answers = await burst(responses.map((r) => () => Promise.resolve(r.clone())));
  return { responses, answers };
}

const scenarios: Record<string, (setup: Setup) => Promise<void>> = {
  async 'the same TOTP code sent by 30 pre-MFA sessions of one user at once signs in exactly one'({
    service,
    admin,
    instances,
  }) {
    const member = await totpMember(service, admin);
    const sessions = await signInMany(service, member, PARALLEL, instances);
    const code = await member.authenticator.nextCode();
    const answers = await burst(sessions.map((session) => () => session.verify('totp', code)));
    const winner = winnerOf(answers);
    assertOnlyKinds(answers, ['200', '401 invalid_code', '429 too_many_attempts']);
    // All hold the right code, so the first to take a try wins and resets the count; the later
    // ones are wrong codes for the lock, which may lock the user but never past 5 failures.
    assert.ok((tally(answers)['401 invalid_code'] ?? 0) <= MFA_MAX_FAILURES, show(answers));
    const me = await meOf(sessions[winner]!);
    assert.deepEqual(me.session, { status: 'authenticated', aal: 2 });
    for (const [i, session] of sessions.entries()) {
      if (i !== winner) assert.equal((await session.get('/me')).status, 200, 'still pre-MFA');
    }
  },

  async 'the same TOTP code sent 30 times at once on one session signs it in once'({
    service,
    admin,
    instances,
  }) {
    const member = await totpMember(service, admin);
    const session = await signInPending(service, member);
    const code = await member.authenticator.nextCode();
    await signsInOnceFromCopies(session, instances, 'totp', code);
    // The pre-MFA token was replaced by the winner: it opens nothing any more.
    assert.equal((await session.get('/me')).status, 401);
  },

  async 'the same recovery code sent by 30 pre-MFA sessions at once is spent exactly once'({
    service,
    admin,
    instances,
  }) {
    const member = await totpMember(service, admin);
    const sessions = await signInMany(service, member, PARALLEL, instances);
    const code = member.recoveryCodes[0]!;
    const answers = await burst(
      sessions.map((session) => () => session.verify('recovery_code', code)),
    );
    const winner = winnerOf(answers);
    assertOnlyKinds(answers, ['200', '401 invalid_code', '429 too_many_attempts']);
    assert.ok((tally(answers)['401 invalid_code'] ?? 0) <= MFA_MAX_FAILURES, show(answers));
    const me = await meOf(sessions[winner]!);
    assert.equal(me.mfa.recovery_codes_remaining, 9, 'one code spent, nine left');
  },

  async 'the same emailed sign-in code sent 30 times at once on its session signs in once'({
    service,
    admin,
    instances,
  }) {
    const member = await emailMember(service, admin);
    const session = await signInPending(service, member);
    const seen = service.mailCount(member.email);
    const sent = await session.post('/auth/verification/email', {});
    assert.equal(sent.status, 202, await sent.clone().text());
    const code = await service.emailedCode(member.email, seen);
    await signsInOnceFromCopies(session, instances, 'email', code);
  },

  async 'an emailed sign-in code sent from 30 sessions at once works on no session but its own'({
    service,
    admin,
    instances,
  }) {
    const member = await emailMember(service, admin);
    const sessions = await signInMany(service, member, PARALLEL, instances);
    const seen = service.mailCount(member.email);
    const sent = await sessions[0]!.post('/auth/verification/email', {});
    assert.equal(sent.status, 202, await sent.clone().text());
    const code = await service.emailedCode(member.email, seen);
    const answers = await burst(sessions.map((session) => () => session.verify('email', code)));
    assertOnlyKinds(answers, ['200', '401 invalid_code', '429 too_many_attempts']);
    answers.slice(1).forEach((answer, i) => {
      assert.notEqual(answer.status, 200, `session ${i + 1} was signed in by another's code`);
    });
    // Its own session either got in or met the lock that the 29 others' wrong codes set. Its
    // success resets the count: at most 4 failures before it and 5 after it, else 5 in all.
    assert.ok([200, 429].includes(answers[0]!.status), show(answers));
    const failures = tally(answers)['401 invalid_code'] ?? 0;
    const mostFailures = answers[0]!.status === 200 ? 2 * MFA_MAX_FAILURES - 1 : MFA_MAX_FAILURES;
    assert.ok(failures <= mostFailures, show(answers));
  },

  async 'a reset link used 30 times at once sets exactly one new password'({
    service,
    admin,
    instances,
  }) {
    const member = await service.createUser(admin);
    const token = await resetToken(service, service.org, member.email);
    const passwords = Array.from({ length: PARALLEL }, (_, i) => `new passphrase number ${i}`);
    for (const password of passwords) service.secrets.add(password);
    const answers = await burst(
      passwords.map(
        (password, i) => () =>
          service.client(i % instances).post('/auth/password/reset', {
            token,
            new_password: password,
          }),
      ),
    );
    const winner = winnerOf(answers);
    assertOnlyKinds(answers, ['204', '400 invalid_token']);
    const loser = (winner + 1) % PARALLEL;
    assert.equal((await service.client().signIn(member.email, passwords[loser]!)).status, 401);
    assert.equal((await service.client().signIn(member.email, member.password)).status, 401);
    assert.equal((await service.client().signIn(member.email, passwords[winner]!)).status, 200);
  },

  async 'the same weakening code sent 30 times at once changes the policy once'({
    service,
    admin,
    adminCodes,
    instances,
  }) {
    const verification = recoveryVerification(adminCodes);
    const acting = await service.createUser(admin, { role: 'admin', verification });
    const client = service.client();
    assert.equal((await client.signIn(acting.email, acting.password)).status, 200);
    const seen = service.mailCount(acting.email);
    const asked = await client.post('/org/mfa/policy/weaken', { policy: 'disabled' });
    assert.equal(asked.status, 202, await asked.clone().text());
    const { request_id: requestId } = (await asked.json()) as { request_id: string };
    const code = await service.emailedCode(acting.email, seen);
    const answers = await burst(
      Array.from(
        { length: PARALLEL },
        (_, i) => () =>
          client.on(i % instances).post('/org/mfa/policy/weaken/confirm', {
            request_id: requestId,
            code,
          }),
      ),
    );
    winnerOf(answers);
    assertOnlyKinds(answers, ['200', '401 invalid_code']);
    assert.equal((await meOf(admin)).mfa.policy, 'disabled');
    const audit = await admin.get('/org/audit?type=org.mfa_policy_changed&limit=100');
    assert.equal(audit.status, 200, await audit.clone().text());
    const { events } = (await audit.json()) as { events: { details: { to?: string } }[] };
    assert.equal(events.filter((e) => e.details.to === 'disabled').length, 1, 'one change');
    await service.setPolicy(admin, 'enabled');
  },
};

/**
 * Three locks guessed at together, 30 wrong guesses each, all 90 requests in flight at once: the
 * MFA lock of a member (30 pre-MFA sessions), the password lock of another, and the 5 tries of a
 * weakening code. Each takes exactly its number of tries, by the answers and by the database.
 */
async function wrongGuessesAtOnce({ service, admin, adminCodes, instances }: Setup) {
  const mfaMember = await totpMember(service, admin);
  const sessions = await signInMany(service, mfaMember, PARALLEL, instances);
  const totpCodes = wrongTotpCodes(mfaMember.secret, PARALLEL);
  const passwordMember = await service.createUser(admin);
  const verification = recoveryVerification(adminCodes);
  const acting = await service.createUser(admin, { role: 'admin', verification });
  const actingClient = service.client();
  assert.equal((await actingClient.signIn(acting.email, acting.password)).status, 200);
  const seen = service.mailCount(acting.email);
  const asked = await actingClient.post('/org/mfa/policy/weaken', { policy: 'disabled' });
  assert.equal(asked.status, 202, await asked.clone().text());
  const { request_id: requestId } = (await asked.json()) as { request_id: string };
  const weakenCode = await service.emailedCode(acting.email, seen);
  const wrongWeakenCode = (i: number) =>
    String((Number(weakenCode) + 1 + i) % 1_000_000).padStart(6, '0');

  const [mfa, passwords, weaken] = await Promise.all([
    burstWithResponses(sessions.map((session, i) => () => session.verify('totp', totpCodes[i]!))),
    burstWithResponses(
      Array.from(
        { length: PARALLEL },
        (_, i) => () =>
          service.client(i % instances).signIn(passwordMember.email, `wrong password ${i}`),
      ),
    ),
    burstWithResponses(
      Array.from(
        { length: PARALLEL },
        (_, i) => () =>
          actingClient.on(i % instances).post('/org/mfa/policy/weaken/confirm', {
            request_id: requestId,
            code: wrongWeakenCode(i),
          }),
      ),
    ),
  ]);

  assertLockTookExactly(mfa, ['401 invalid_code', '429 too_many_attempts'], {
    tries: MFA_MAX_FAILURES,
    lockSeconds: MFA_LOCK_SECONDS,
  });
  assertLockTookExactly(passwords, ['401 invalid_credentials', '429 rate_limited'], {
    tries: PASSWORD_MAX_FAILURES,
    lockSeconds: PASSWORD_LOCK_SECONDS,
  });
  assertOnlyKinds(weaken.answers, ['401 invalid_code']);

  // Each lock holds even for the right secret.
  const fresh = await signInPending(service, mfaMember);
  const rightCode = await fresh.verify('totp', await mfaMember.authenticator.nextCode());
  assert.equal(rightCode.status, 429, 'the MFA lock holds for the right code');
  const rightPassword = await service
    .client()
    .signIn(passwordMember.email, passwordMember.password);
  assert.equal(rightPassword.status, 429, 'the password lock holds for the right password');
  const rightWeaken = await actingClient.post('/org/mfa/policy/weaken/confirm', {
    request_id: requestId,
    code: weakenCode,
  });
  assert.equal(rightWeaken.status, 401, 'the tries are spent: the right code no longer works');
  assert.equal((await meOf(admin)).mfa.policy, 'enabled');

  const stored = await service.inspectDatabase(async (db) => ({
    mfa: await counterOf(db, `mfa:${mfaMember.id}`),
    password: await counterOf(db, passwordCounterKey(service.org, passwordMember.email)),
    weaken: await db
      .selectFrom('email_challenges')
      .select('attempts')
      .where('id', '=', requestId)
      .executeTakeFirstOrThrow(),
  }));
  assert.deepEqual(stored.mfa, { failures: MFA_MAX_FAILURES, locked: true });
  assert.deepEqual(stored.password, { failures: PASSWORD_MAX_FAILURES, locked: true });
  assert.equal(Number(stored.weaken.attempts), EMAIL_CODE_MAX_ATTEMPTS);
}

async function runScenarios(t: TestContext, service: Service, instances: number) {
  const admin = await service.admin();
  // Turning MFA on sends an admin without a factor to enrollment first.
  await service.setPolicy(admin, 'enabled');
  const adminCodes = new RecoveryCodes((await admin.enrollTotp()).recoveryCodes);
  for (const [name, scenario] of Object.entries(scenarios)) {
    await t.test(name, () => scenario({ service, admin, adminCodes, instances }));
  }
  await t.test(
    '30 wrong guesses at once take exactly the tries each lock allows: 5 MFA codes, 10 passwords, 5 per emailed code',
    () => wrongGuessesAtOnce({ service, admin, adminCodes, instances }),
  );
  // Whatever raced, the server is up and answers.
  for (let i = 0; i < instances; i += 1) {
    assert.equal((await fetch(`${service.url(i)}/healthz`)).status, 200);
  }
}

test('against one instance, single-use secrets are accepted once and locks are never overshot', async (t) => {
  const service = await Service.start(t);
  await runScenarios(t, service, 1);
});

test('against two instances on one PostgreSQL, single-use secrets are accepted once and locks are never overshot', async (t) => {
  if (skipWithoutPostgres(t)) return;
  const service = await Service.start(t, { instances: 2 });
  await runScenarios(t, service, 2);
});

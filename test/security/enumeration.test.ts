import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSsoUser, postAnonymously, unknownEmail } from './enumeration-helpers.ts';
import { Service } from './harness.ts';

/*
 * Account enumeration: sign-in and forgot-password answer an existing account (with a password,
 * or an SSO one that has none) exactly as they answer an unknown one: status, body and headers.
 * The time they take is compared in enumeration.timing.ts, which runs alone.
 */

/** Headers that differ between any two requests, whoever they name. */
const PER_REQUEST_HEADERS = new Set([
  'date',
  'x-request-id',
  // The per-IP limit counts the caller's requests, not the account's: it moves on every request.
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
]);

type Answer = { status: number; headers: Record<string, string>; body: string };

async function answerOf(response: Response): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) {
    if (!PER_REQUEST_HEADERS.has(name)) headers[name] = value;
  }
  return { status: response.status, headers, body: await response.text() };
}

test('account enumeration', async (t) => {
  const service = await Service.start(t);
  const admin = await service.admin();
  const post = (path: string, body: unknown) => postAnonymously(service, path, body);
  const wrongPassword = 'not the password at all';
  const other = await service.createUser(admin);

  await t.test(
    'a wrong password, an unknown email and an unknown org get the same sign-in answer',
    async () => {
      const account = other;
      const answers = [
        await answerOf(
          await post('/auth/login', {
            org: service.org,
            email: account.email,
            password: wrongPassword,
          }),
        ),
        await answerOf(
          await post('/auth/login', {
            org: service.org,
            email: unknownEmail(),
            password: wrongPassword,
          }),
        ),
        await answerOf(
          await post('/auth/login', {
            org: 'no-such-org',
            email: account.email,
            password: wrongPassword,
          }),
        ),
        // An SSO account has no password: no answer may say that this one is an SSO account.
        await answerOf(
          await post('/auth/login', {
            org: service.org,
            email: await createSsoUser(service, admin),
            password: wrongPassword,
          }),
        ),
        await answerOf(
          await post('/auth/login', {
            org: service.org,
            email: account.email.toUpperCase(),
            password: wrongPassword,
          }),
        ),
      ];
      assert.equal(answers[0]!.status, 401);
      assert.match(answers[0]!.body, /"invalid_credentials"/);
      for (const answer of answers.slice(1)) assert.deepEqual(answer, answers[0]);
    },
  );

  await t.test(
    'forgot-password answers an existing account, an unknown one and an unknown org alike',
    async () => {
      const account = other;
      const answers = [
        await answerOf(
          await post('/auth/password/forgot', { org: service.org, email: account.email }),
        ),
        await answerOf(
          await post('/auth/password/forgot', { org: service.org, email: unknownEmail() }),
        ),
        await answerOf(
          await post('/auth/password/forgot', { org: 'no-such-org', email: account.email }),
        ),
        // Asked again within the minute: the account gets no second mail, and the answer says nothing.
        await answerOf(
          await post('/auth/password/forgot', { org: service.org, email: account.email }),
        ),
      ];
      assert.equal(answers[0]!.status, 202);
      for (const answer of answers.slice(1)) assert.deepEqual(answer, answers[0]);
    },
  );

  await t.test('a locked existing account and a locked unknown one answer alike', async () => {
    const account = await service.createUser(admin);
    const nobody = unknownEmail();
    const lockOut = async (email: string) => {
      for (let i = 0; i < 10; i += 1) {
        const response = await post('/auth/login', {
          org: service.org,
          email,
          password: wrongPassword,
        });
        assert.equal(response.status, 401);
        await response.body?.cancel();
      }
      return post('/auth/login', { org: service.org, email, password: wrongPassword });
    };
    const normalize = (answer: Answer) => ({
      ...answer,
      // Seconds left until the lock lifts: the two locks started a moment apart.
      body: answer.body.replace(/"retry_after":\d+/, '"retry_after":N'),
      headers: { ...answer.headers, 'retry-after': 'N' },
    });
    const real = await answerOf(await lockOut(account.email));
    const unknownAnswer = await answerOf(await lockOut(nobody));
    assert.equal(real.status, 429);
    assert.deepEqual(normalize(unknownAnswer), normalize(real));
  });
});

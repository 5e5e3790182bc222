import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { Service, type Client } from './harness.ts';

/*
 * Account enumeration: sign-in and forgot-password answer an existing account (with a password,
 * or an SSO one that has none) exactly as they answer an unknown one (status, body, headers), and
 * in the same time, to within a bound that one extra database round trip would break.
 */

/** Headers that differ between any two requests, whoever they name. */
const PER_REQUEST_HEADERS = new Set([
  'date',
  'x-request-id',
  // The per-IP limit counts the caller's requests, not the account's: it moves on every request.
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
]);

const SAMPLES = 120;
/**
 * The largest median difference allowed between an existing and an unknown account. An extra
 * database round trip on one path costs about 2 ms here, so this bound catches one.
 */
const TIMING_BOUND_MS = 1;
/** Sign-ins per account in the timing run: under the 10 failures that lock it. */
const USES_PER_ACCOUNT = 8;

type Answer = { status: number; headers: Record<string, string>; body: string };

async function answerOf(response: Response): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) {
    if (!PER_REQUEST_HEADERS.has(name)) headers[name] = value;
  }
  return { status: response.status, headers, body: await response.text() };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function unknownEmail(): string {
  return `nobody-${randomBytes(4).toString('hex')}@acme.test`;
}

test('account enumeration', async (t) => {
  const service = await Service.start(t);
  const admin = await service.admin();
  // Two rounds at most, each account used USES_PER_ACCOUNT times, so that none of them locks.
  const accounts = (2 * SAMPLES) / USES_PER_ACCOUNT;
  const existing: { email: string; password: string; id: string }[] = [];
  for (let i = 0; i < accounts; i += 1) existing.push(await service.createUser(admin));
  const ssoAccounts: string[] = [];
  for (let i = 0; i < accounts; i += 1) ssoAccounts.push(await createSsoUser(service, admin));
  const unknown = existing.map(() => unknownEmail());
  const unknownToo = existing.map(() => unknownEmail());

  const post = (path: string, body: unknown) =>
    fetch(`${service.url()}/api/v1${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const wrongPassword = 'not the password at all';
  // Warms the server up (JIT, connection pool, argon2 threads) before anything is compared.
  for (let i = 0; i < 4; i += 1) {
    await (
      await post('/auth/login', {
        org: service.org,
        email: unknownEmail(),
        password: wrongPassword,
      })
    ).text();
  }
  const other = await service.createUser(admin);

  /**
   * Times `send` for an existing and an unknown account in pairs, in alternating order, and
   * compares the median of the pairs' differences with TIMING_BOUND_MS: pairing cancels the
   * machine's drifts, which are far larger than the bound. A round that misses the bound is
   * measured once more; a real difference of 2 ms misses it both times.
   */
  const timePairs = async (
    label: string,
    send: (kind: 'existing' | 'unknown', i: number) => Promise<Response>,
  ) => {
    const rounds: number[] = [];
    for (let round = 0; round < 2; round += 1) {
      const differences: number[] = [];
      for (let i = 0; i < SAMPLES; i += 1) {
        const took = { existing: 0, unknown: 0 };
        const order =
          i % 2 ? (['unknown', 'existing'] as const) : (['existing', 'unknown'] as const);
        for (const kind of order) {
          const started = performance.now();
          await (await send(kind, round * SAMPLES + i)).text();
          took[kind] = performance.now() - started;
        }
        differences.push(took.existing - took.unknown);
      }
      const difference = median(differences);
      rounds.push(difference);
      t.diagnostic(
        `${label}: existing minus unknown, median of ${SAMPLES} paired differences: ${difference.toFixed(2)} ms`,
      );
      if (Math.abs(difference) < TIMING_BOUND_MS) return;
    }
    assert.fail(
      `${label}: existing and unknown accounts differ by ${rounds.map((d) => d.toFixed(2)).join(' and ')} ms (bound ${TIMING_BOUND_MS} ms)`,
    );
  };

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

  await t.test(
    'a sign-in takes about as long for an existing account as for an unknown one',
    async () => {
      await timePairs('sign-in', (kind, i) => {
        const slot = i % existing.length;
        const email = kind === 'existing' ? existing[slot]!.email : unknown[slot]!;
        return post('/auth/login', { org: service.org, email, password: wrongPassword });
      });
    },
  );

  await t.test(
    'a sign-in takes about as long for an SSO account as for an unknown one',
    async () => {
      await timePairs('sign-in, SSO account', (kind, i) => {
        const slot = i % existing.length;
        const email = kind === 'existing' ? ssoAccounts[slot]! : unknownToo[slot]!;
        return post('/auth/login', { org: service.org, email, password: wrongPassword });
      });
    },
  );

  await t.test(
    'forgot-password takes about as long for an existing account as for an unknown one',
    async () => {
      await timePairs('forgot-password', (kind, i) => {
        const slot = i % existing.length;
        const email = kind === 'existing' ? existing[slot]!.email : unknown[slot]!;
        return post('/auth/password/forgot', { org: service.org, email });
      });
    },
  );
});

/** An account that signs in through the org's identity provider and so has no password. */
async function createSsoUser(service: Service, admin: Client): Promise<string> {
  const email = `sso-${randomBytes(4).toString('hex')}@acme.test`;
  const response = await admin.post('/org/users', {
    email,
    name: 'Sam SSO',
    role: 'member',
    sso: true,
  });
  assert.equal(response.status, 201, await response.clone().text());
  return email;
}

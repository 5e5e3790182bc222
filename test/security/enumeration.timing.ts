import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { createSsoUser, postAnonymously, unknownEmail } from './enumeration-helpers.ts';
import { Service } from './harness.ts';

/*
 * Account enumeration by time: a sign-in or a forgot-password request takes the same time for an
 * existing account (with a password, or an SSO one that has none) as for an unknown one, to
 * within a bound that one extra database round trip would break. This file runs alone, after the
 * rest of the security suite (npm run test:security), so that no other test's load is measured.
 */

const SAMPLES = 120;
/** Rounds at most: one that misses the bound is measured again. */
const ROUNDS = 3;
/**
 * The largest median difference allowed between an existing and an unknown account. An extra
 * database round trip on one path costs about 2 ms here, so this bound catches one.
 */
const TIMING_BOUND_MS = 1;
/** Sign-ins per account in the timing run: under the 10 failures that lock it. */
const USES_PER_ACCOUNT = 8;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

test('sign-in and forgot-password take as long for existing accounts as for unknown ones', async (t) => {
  const service = await Service.start(t);
  const admin = await service.admin();
  // Each account is used USES_PER_ACCOUNT times over all rounds, so that none of them locks.
  const accounts = (ROUNDS * SAMPLES) / USES_PER_ACCOUNT;
  const existing: { email: string; password: string; id: string }[] = [];
  for (let i = 0; i < accounts; i += 1) existing.push(await service.createUser(admin));
  const ssoAccounts: string[] = [];
  for (let i = 0; i < accounts; i += 1) ssoAccounts.push(await createSsoUser(service, admin));
  const unknown = existing.map(() => unknownEmail());
  const unknownToo = existing.map(() => unknownEmail());
  const post = (path: string, body: unknown) => postAnonymously(service, path, body);
  const wrongPassword = 'not the password at all';
  // Warms the server up (JIT, connection pool, argon2 threads) before anything is compared.
  for (let i = 0; i < 4; i += 1) {
    const email = unknownEmail();
    await (await post('/auth/login', { org: service.org, email, password: wrongPassword })).text();
  }

  /**
   * Times `send` for an existing and an unknown account in pairs, in alternating order, and
   * compares the median of the pairs' differences with TIMING_BOUND_MS: pairing cancels the
   * machine's drifts, which are far larger than the bound. A round that misses the bound is
   * measured again, ROUNDS times at most; a real difference of 2 ms misses it every time.
   */
  const timePairs = async (
    label: string,
    send: (kind: 'existing' | 'unknown', i: number) => Promise<Response>,
  ) => {
    const rounds: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
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
      `${label}: existing and unknown accounts differ by ${rounds.map((d) => d.toFixed(2)).join(', ')} ms (bound ${TIMING_BOUND_MS} ms)`,
    );
  };

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

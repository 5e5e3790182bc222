import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import {
  AUTH_REQUESTS_PER_IP_PER_MINUTE,
  MFA_LOCK_SECONDS,
  MFA_MAX_FAILURES,
  PASSWORD_LOCK_SECONDS,
  PASSWORD_MAX_FAILURES,
} from '../../src/core/limits.ts';
import { ADMIN, Service, type Client } from './harness.ts';
import {
  answerOf,
  emailMember,
  signInPending,
  show,
  totpMember,
  wrongTotpCodes,
  type Answer,
  type Member,
} from './load-helpers.ts';

/*
 * Rate limits that do not reset by signing in again, by changing address or by starting a new
 * challenge. The per-account locks (10 wrong passwords; 5 wrong second-factor codes) live in the
 * database and ignore where a request comes from. The per-address ceiling on the unauthenticated
 * auth routes counts the socket's address; X-Forwarded-For counts only when the operator names a
 * trusted proxy in PORTCULLIS_TRUST_PROXY, and then each forwarded client has its own budget.
 */

/** A small per-address ceiling, so that reaching it is quick (the product default is 60). */
const SMALL_LIMIT = 20;

let spoofed = 0;
/** A new documentation-range address for each call (RFC 5737). */
function anotherAddress(): string {
  spoofed += 1;
  return `198.51.${Math.floor(spoofed / 250) % 250}.${(spoofed % 250) + 1}`;
}

function signIn(
  service: Service,
  client: Client,
  email: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  service.secrets.add(password);
  return client.post('/auth/login', { org: service.org, email, password }, headers);
}

/** A 429 of a lock: the error, and a retry time within the lock's length in body and header. */
async function assertLocked(response: Response, error: string, lockSeconds: number) {
  const retryHeader = response.headers.get('retry-after');
  const answer = await answerOf(response);
  assert.equal(answer.status, 429, JSON.stringify(answer.body));
  assert.equal(answer.error, error);
  const seconds = (answer.body as { retry_after: number }).retry_after;
  assert.ok(seconds > 0 && seconds <= lockSeconds, `retry_after ${seconds}`);
  assert.equal(retryHeader, String(seconds));
}

async function assertAnswer(response: Response, status: number, error?: string): Promise<Answer> {
  const answer = await answerOf(response);
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  if (error) assert.equal(answer.error, error);
  return answer;
}

/** The address the newest audit event of this type recorded for the request. */
async function auditedAddress(admin: Client, type: string): Promise<string | null> {
  const response = await admin.get(`/org/audit?type=${type}&limit=1`);
  assert.equal(response.status, 200, await response.clone().text());
  const { events } = (await response.json()) as { events: { ip: string | null }[] };
  assert.ok(events[0], `an audit event ${type}`);
  return events[0].ip;
}

/**
 * Behind a trusted proxy: what an operator opts into with PORTCULLIS_TRUST_PROXY. The proxy at
 * 127.0.0.1 says who the client is, so each X-Forwarded-For below is a really different client
 * address to the server; the per-account locks must hold all the same.
 */
async function behindTrustedProxy(t: TestContext, service: Service) {
  const admin = await service.admin();
  // Turning MFA on sends an admin without a factor to enrollment first.
  await service.setPolicy(admin, 'enabled');
  await admin.enrollTotp();

  await t.test(
    'a password lock holds for the right password from any client address, whoever else signs in meanwhile',
    async () => {
      const member = await service.createUser(admin);
      const earlier = service.client();
      await assertAnswer(await signIn(service, earlier, member.email, member.password), 200);
      for (let i = 0; i < PASSWORD_MAX_FAILURES; i += 1) {
        const guess = await signIn(service, service.client(), member.email, `wrong ${i}`, {
          'x-forwarded-for': anotherAddress(),
        });
        await assertAnswer(guess, 401, 'invalid_credentials');
      }
      // Another account signs in, and the session opened before the lock keeps working: neither
      // touches the lock.
      await assertAnswer(await signIn(service, service.client(), ADMIN.email, ADMIN.password), 200);
      await assertAnswer(await earlier.get('/me'), 200);
      const right = await signIn(service, service.client(), member.email, member.password, {
        'x-forwarded-for': anotherAddress(),
      });
      await assertLocked(right, 'rate_limited', PASSWORD_LOCK_SECONDS);
      const fromEarlier = await signIn(service, earlier, member.email, member.password);
      await assertLocked(fromEarlier, 'rate_limited', PASSWORD_LOCK_SECONDS);
    },
  );

  await t.test(
    'wrong passwords add up across sessions and addresses: another account signing in between does not reset the count',
    async () => {
      const member = await service.createUser(admin);
      for (let i = 0; i < PASSWORD_MAX_FAILURES - 1; i += 1) {
        const guess = await signIn(service, service.client(), member.email, `wrong ${i}`, {
          'x-forwarded-for': anotherAddress(),
        });
        await assertAnswer(guess, 401, 'invalid_credentials');
      }
      await assertAnswer(await signIn(service, service.client(), ADMIN.email, ADMIN.password), 200);
      const last = await signIn(service, service.client(), member.email, 'wrong again');
      await assertAnswer(last, 401, 'invalid_credentials');
      const right = await signIn(service, service.client(), member.email, member.password);
      await assertLocked(right, 'rate_limited', PASSWORD_LOCK_SECONDS);
    },
  );

  await t.test(
    'an MFA lock holds for a new sign-in, another client address and a step-up from a session opened before it',
    async () => {
      const member = await totpMember(service, admin);
      const before = await signInPending(service, member);
      await assertAnswer(await before.verify('recovery_code', member.recoveryCodes[0]!), 200);
      // A code the authenticator shows now, never used: right, but for the lock.
      const rightCode = await member.authenticator.nextCode();
      const guesser = await signInPending(service, member);
      const wrong = wrongTotpCodes(member.secret, MFA_MAX_FAILURES + 1);
      for (let i = 0; i < MFA_MAX_FAILURES; i += 1) {
        await assertAnswer(await guesser.verify('totp', wrong[i]!), 401, 'invalid_code');
      }
      await assertLocked(
        await guesser.verify('totp', wrong[MFA_MAX_FAILURES]!),
        'too_many_attempts',
        MFA_LOCK_SECONDS,
      );
      // Signing in again passes the password step, but the second factor stays locked.
      const again = await signInPending(service, member);
      await assertLocked(
        await again.verify('totp', rightCode),
        'too_many_attempts',
        MFA_LOCK_SECONDS,
      );
      const elsewhere = await again.post(
        '/auth/mfa/verify',
        { method: 'recovery_code', code: member.recoveryCodes[1]! },
        { 'x-forwarded-for': anotherAddress() },
      );
      await assertLocked(elsewhere, 'too_many_attempts', MFA_LOCK_SECONDS);
      // The lock is the user's: a fully signed-in session cannot step up past it either.
      const stepUp = await before.post('/me/recovery-codes', {
        verification: { method: 'totp', code: rightCode },
      });
      await assertLocked(stepUp, 'too_many_attempts', MFA_LOCK_SECONDS);
    },
  );

  await t.test(
    'wrong second-factor codes add up across sessions: 4 on one and 1 after signing in again lock the user',
    async () => {
      const member = await totpMember(service, admin);
      const first = await signInPending(service, member);
      const wrong = wrongTotpCodes(member.secret, MFA_MAX_FAILURES);
      for (let i = 0; i < MFA_MAX_FAILURES - 1; i += 1) {
        await assertAnswer(await first.verify('totp', wrong[i]!), 401, 'invalid_code');
      }
      const second = await signInPending(service, member);
      const last = await second.verify('totp', wrong[MFA_MAX_FAILURES - 1]!);
      await assertAnswer(last, 401, 'invalid_code');
      await assertLocked(
        await second.verify('totp', await member.authenticator.nextCode()),
        'too_many_attempts',
        MFA_LOCK_SECONDS,
      );
    },
  );

  await t.test('a new emailed code does not reset the count of wrong codes', async () => {
    const member: Member = await emailMember(service, admin);
    const first = await signInPending(service, member);
    const seen = service.mailCount(member.email);
    await assertAnswer(await first.post('/auth/verification/email', {}), 202);
    const firstCode = await service.emailedCode(member.email, seen);
    const wrong = (i: number) => String((Number(firstCode) + 1 + i) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < MFA_MAX_FAILURES; i += 1) {
      await assertAnswer(await first.verify('email', wrong(i)), 401, 'invalid_code');
    }
    // A new session and a new challenge: the code it gets is right, and still refused.
    const second = await signInPending(service, member);
    const sent = await answerOf(await second.post('/auth/verification/email', {}));
    if (sent.status === 202) {
      const secondCode = await service.emailedCode(member.email, seen + 1);
      await assertLocked(
        await second.verify('email', secondCode),
        'too_many_attempts',
        MFA_LOCK_SECONDS,
      );
    } else {
      assert.equal(sent.status, 429, `no new code during the lock: ${JSON.stringify(sent.body)}`);
    }
    await assertLocked(
      await first.verify('email', firstCode),
      'too_many_attempts',
      MFA_LOCK_SECONDS,
    );
  });

  await t.test(
    `the ceiling of ${AUTH_REQUESTS_PER_IP_PER_MINUTE} requests a minute counts each forwarded client apart, and the audit log records that address`,
    async () => {
      const first = '203.0.113.10';
      const second = '203.0.113.11';
      const forgot = (address: string, i: number) =>
        service
          .client()
          .post(
            '/auth/password/forgot',
            { org: service.org, email: `nobody-${i}@acme.test` },
            { 'x-forwarded-for': address },
          );
      const answers = await inTurn(AUTH_REQUESTS_PER_IP_PER_MINUTE, (i) => forgot(first, i));
      assert.ok(
        answers.every((a) => a.status === 202),
        show(answers),
      );
      await assertOverCeiling(await forgot(first, -1));
      // Another client behind the same proxy has a budget of its own.
      await assertAnswer(await forgot(second, -1), 202);
      const other = service.client();
      const signedIn = await signIn(service, other, ADMIN.email, ADMIN.password, {
        'x-forwarded-for': second,
      });
      await assertAnswer(signedIn, 200);
      assert.equal(await auditedAddress(admin, 'login.succeeded'), second);
    },
  );
}

/** Sends `count` requests one after the other and returns their answers. */
async function inTurn(count: number, send: (i: number) => Promise<Response>): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let i = 0; i < count; i += 1) answers.push(await answerOf(await send(i)));
  return answers;
}

/** Past the per-address ceiling: a 429 rate_limited with a retry time within the minute. */
async function assertOverCeiling(response: Response) {
  const retryHeader = response.headers.get('retry-after');
  const answer = await answerOf(response);
  assert.equal(answer.status, 429, JSON.stringify(answer.body));
  assert.equal(answer.error, 'rate_limited');
  const seconds = (answer.body as { retry_after: number }).retry_after;
  assert.ok(seconds >= 1 && seconds <= 60, `retry_after ${seconds}`);
  assert.equal(retryHeader, String(seconds));
}

/** Without a trusted proxy, the per-address ceiling counts the socket's address. */
async function withoutTrustedProxy(t: TestContext, service: Service) {
  const client = () => service.client();
  const unknownEmail = (i: number) => `nobody-${i}@acme.test`;

  await t.test(
    `sign-in: ${SMALL_LIMIT} attempts a minute per address, then 429 with retry-after even for the right password; X-Forwarded-For is ignored`,
    async () => {
      // The first attempt is the admin's, with a made-up forwarded address the server must ignore.
      const admin = client();
      const signedIn = await signIn(service, admin, ADMIN.email, ADMIN.password, {
        'x-forwarded-for': '203.0.113.7',
      });
      await assertAnswer(signedIn, 200);
      const address = await auditedAddress(admin, 'login.succeeded');
      assert.match(address ?? '', /^(::ffff:)?127\.0\.0\.1$/);
      // The others name unknown accounts, each another one, so that no account lock is involved.
      const answers = await inTurn(SMALL_LIMIT - 1, (i) =>
        signIn(service, client(), unknownEmail(i), 'not the password', {
          'x-forwarded-for': anotherAddress(),
        }),
      );
      assert.ok(
        answers.every((a) => a.status === 401 && a.error === 'invalid_credentials'),
        show(answers),
      );
      await assertOverCeiling(await signIn(service, client(), unknownEmail(99), 'not it'));
      await assertOverCeiling(
        await signIn(service, client(), unknownEmail(98), 'not it', {
          'x-forwarded-for': anotherAddress(),
        }),
      );
      await assertOverCeiling(
        await signIn(service, client(), ADMIN.email, ADMIN.password, {
          'x-forwarded-for': `${anotherAddress()}, ${anotherAddress()}`,
          'x-real-ip': anotherAddress(),
        }),
      );
    },
  );

  await t.test(
    `forgot password: ${SMALL_LIMIT} requests a minute, then 429, whatever X-Forwarded-For says`,
    async () => {
      const answers = await inTurn(SMALL_LIMIT, (i) =>
        client().post('/auth/password/forgot', { org: service.org, email: unknownEmail(i) }),
      );
      assert.ok(
        answers.every((a) => a.status === 202),
        show(answers),
      );
      await assertOverCeiling(
        await client().post(
          '/auth/password/forgot',
          { org: service.org, email: ADMIN.email },
          { 'x-forwarded-for': anotherAddress() },
        ),
      );
    },
  );

  await t.test(
    `password reset: ${SMALL_LIMIT} tries of a link a minute, then 429, whatever X-Forwarded-For says`,
    async () => {
      const answers = await inTurn(SMALL_LIMIT, (i) =>
        client().post('/auth/password/reset', {
          token: `guessed-token-${i}`,
          new_password: 'a new passphrase',
        }),
      );
      assert.ok(
        answers.every((a) => a.status === 400 && a.error === 'invalid_token'),
        show(answers),
      );
      await assertOverCeiling(
        await client().post(
          '/auth/password/reset',
          { token: 'guessed-token-x', new_password: 'a new passphrase' },
          { 'x-forwarded-for': anotherAddress() },
        ),
      );
    },
  );
}

test('rate limits hold whatever address a client claims, and across sign-ins and challenges', async (t) => {
  // Both servers boot at once: booting is most of this file's time.
  const [trusted, direct] = await Promise.all([
    Service.start(t, {
      authRateLimit: AUTH_REQUESTS_PER_IP_PER_MINUTE,
      env: { PORTCULLIS_TRUST_PROXY: '127.0.0.1' },
    }),
    Service.start(t, { authRateLimit: SMALL_LIMIT }),
  ]);
  await t.test(
    'behind a trusted proxy, per-account locks survive signing in again, other sessions, changed client addresses and new challenges',
    (t) => behindTrustedProxy(t, trusted),
  );
  await t.test(
    'without a trusted proxy, the per-address ceiling on the auth routes is not reset by X-Forwarded-For or the right password',
    (t) => withoutTrustedProxy(t, direct),
  );
});

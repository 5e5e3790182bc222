import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import * as OTPAuth from 'otpauth';
import { Service, skipWithoutPostgres, type Client } from '../../security/harness.ts';

/*
 * Issue 8, "Many instances": two `portcullis serve` processes on one PostgreSQL work as one
 * service. Sessions, failure counters, challenges and used TOTP steps live in the database, so a
 * client may move between instances at every request. Per-IP rate limits are shared through Redis
 * when REDIS_URL is set; without it each instance counts on its own.
 */

const REDIS_URL = process.env.PORTCULLIS_TEST_REDIS_URL;

function skipWithoutRedis(t: TestContext): boolean {
  if (REDIS_URL) return false;
  t.skip('needs PORTCULLIS_TEST_REDIS_URL: the shared per-IP limit lives in Redis (CI sets it)');
  return true;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

/** A member with an authenticator app, in an org whose policy is "enabled". */
async function enrolledMember(service: Service) {
  const admin = await service.admin(0);
  const member = await service.createUser(admin);
  // The admin's session now has to enroll: the org turned MFA on from it.
  await service.setPolicy(admin, 'enabled');
  const client = service.client(0);
  assert.equal((await client.signIn(member.email, member.password)).status, 200);
  const enrolled = await client.enrollTotp();
  return { member, ...enrolled };
}

/** A pending session of the member on instance `i`. */
async function pendingSession(
  service: Service,
  member: { email: string; password: string },
  i: number,
): Promise<Client> {
  const client = service.client(i);
  const response = await client.signIn(member.email, member.password);
  assert.equal(response.status, 200, await response.clone().text());
  assert.equal((await json(response)).status, 'mfa_required');
  return client;
}

/** A 6-digit code that no step within the server's window of ±1 step accepts. */
function wrongTotpCode(secret: string): string {
  const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), period: 30 });
  const now = Date.now();
  const near = new Set(
    [-2, -1, 0, 1, 2].map((k) => totp.generate({ timestamp: now + k * 30_000 })),
  );
  for (;;) {
    const code = String(randomInt(1_000_000)).padStart(6, '0');
    if (!near.has(code)) return code;
  }
}

/** A client address of its own, so that parallel runs sharing one Redis never share a counter. */
function randomClientIp(): string {
  return `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

/** A sign-in for an account that does not exist, from `ip`, on instance `i`: 401 or 429. */
async function signInFrom(service: Service, i: number, ip: string): Promise<number> {
  const response = await fetch(`${service.url(i)}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    body: JSON.stringify({
      org: service.org,
      email: `nobody-${randomBytes(4).toString('hex')}@acme.test`,
      password: 'not the password',
    }),
  });
  await response.arrayBuffer();
  return response.status;
}

const PER_IP_LIMIT = 6;

// Each test boots its own two instances and database; three at a time keep the file short.
describe('two instances on one PostgreSQL', { concurrency: 3 }, () => {
  test('a sign-in started on instance A is verified on instance B', async (t) => {
    if (skipWithoutPostgres(t)) return;
    const service = await Service.start(t, { instances: 2 });
    const { member, authenticator } = await enrolledMember(service);

    const onA = await pendingSession(service, member, 0);
    const onB = onA.on(1);
    const verified = await onB.verify('totp', await authenticator.nextCode());
    assert.equal(verified.status, 200, await verified.clone().text());
    assert.equal((await json(verified)).status, 'authenticated');

    // The verified session is the same on both instances; the pre-MFA token is dead on both.
    for (const i of [0, 1]) {
      const me = await onB.on(i).get('/me');
      assert.equal(me.status, 200);
      assert.deepEqual((await json(me)).session, { status: 'authenticated', aal: 2 });
      assert.equal((await onA.on(i).get('/me')).status, 401);
    }
  });

  test('a TOTP code or recovery code used on instance A is refused on instance B', async (t) => {
    if (skipWithoutPostgres(t)) return;
    const service = await Service.start(t, { instances: 2 });
    const { member, authenticator, recoveryCodes } = await enrolledMember(service);

    const onA = await pendingSession(service, member, 0);
    const onB = await pendingSession(service, member, 1);
    const code = await authenticator.nextCode();
    assert.equal((await onA.verify('totp', code)).status, 200);
    const replayed = await onB.verify('totp', code);
    assert.equal(replayed.status, 401);
    assert.equal((await json(replayed)).error, 'invalid_code');

    const recoveryCode = recoveryCodes[0]!;
    assert.equal((await onB.verify('recovery_code', recoveryCode)).status, 200);
    const again = await pendingSession(service, member, 0);
    const reused = await again.verify('recovery_code', recoveryCode);
    assert.equal(reused.status, 401);
    assert.equal((await json(reused)).error, 'invalid_code');
  });

  test('failures on A and B add up to one lockout, for codes and for passwords', async (t) => {
    if (skipWithoutPostgres(t)) return;
    const service = await Service.start(t, { instances: 2 });
    const { member, secret, authenticator } = await enrolledMember(service);

    // Second factor: 5 consecutive wrong codes, alternating instances, lock the user on both.
    const sessions = [
      await pendingSession(service, member, 0),
      await pendingSession(service, member, 1),
    ];
    for (let i = 0; i < 5; i += 1) {
      const wrong = await sessions[i % 2]!.verify('totp', wrongTotpCode(secret));
      assert.equal(wrong.status, 401, `wrong code ${i + 1}`);
    }
    const right = await authenticator.nextCode();
    for (const session of sessions) {
      const locked = await session.verify('totp', right);
      assert.equal(locked.status, 429, 'even a right code is refused while locked');
      assert.equal((await json(locked)).error, 'too_many_attempts');
    }

    // Password: 10 consecutive wrong passwords, alternating instances, lock the account on both.
    const other = await service.createUser(await service.admin(1));
    for (let i = 0; i < 10; i += 1) {
      const wrong = await service.client(i % 2).signIn(other.email, `wrong password ${i}`);
      assert.equal(wrong.status, 401, `wrong password ${i + 1}`);
    }
    for (const i of [0, 1]) {
      const locked = await service.client(i).signIn(other.email, other.password);
      assert.equal(locked.status, 429, 'the right password is refused while locked');
      assert.equal((await json(locked)).error, 'rate_limited');
    }
  });

  test('an invalidation made on instance A ends the sessions served by instance B', async (t) => {
    if (skipWithoutPostgres(t)) return;
    const service = await Service.start(t, { instances: 2 });
    const admin = await service.admin(0);
    const members = [await service.createUser(admin), await service.createUser(admin)];
    const onB: Client[] = [];
    for (const member of members) {
      const client = service.client(1);
      assert.equal((await client.signIn(member.email, member.password)).status, 200);
      assert.equal((await client.get('/me')).status, 200);
      onB.push(client);
    }

    // The org-wide invalidation that comes with strengthening the policy.
    const strengthened = await admin.put('/org/mfa/policy', {
      policy: 'enabled',
      sessions: 'invalidate',
    });
    assert.equal(strengthened.status, 200, await strengthened.clone().text());
    for (const client of onB) assert.equal((await client.get('/me')).status, 401);

    // A password changed on A ends the user's other sessions, wherever they are served.
    const member = members[0]!;
    const changer = service.client(0);
    assert.equal((await changer.signIn(member.email, member.password)).status, 200);
    const elsewhere = service.client(1);
    assert.equal((await elsewhere.signIn(member.email, member.password)).status, 200);
    assert.equal((await elsewhere.get('/me')).status, 200);
    const newPassword = `new pw ${randomBytes(9).toString('base64url')}`;
    service.secrets.add(newPassword);
    const changed = await changer.post('/me/password', {
      current_password: member.password,
      new_password: newPassword,
    });
    assert.equal(changed.status, 204, await changed.clone().text());
    assert.equal((await elsewhere.get('/me')).status, 401);
    assert.equal((await changer.on(1).get('/me')).status, 200, 'the changing session goes on');
  });

  test('with Redis, both instances count one per-IP limit on sign-in', async (t) => {
    if (skipWithoutPostgres(t) || skipWithoutRedis(t)) return;
    const service = await Service.start(t, {
      instances: 2,
      authRateLimit: PER_IP_LIMIT,
      env: { REDIS_URL: REDIS_URL!, PORTCULLIS_TRUST_PROXY: '127.0.0.1' },
    });
    const ip = randomClientIp();
    for (let n = 0; n < PER_IP_LIMIT; n += 1) {
      assert.equal(await signInFrom(service, n % 2, ip), 401, `attempt ${n + 1}`);
    }
    assert.equal(await signInFrom(service, 0, ip), 429, 'over the limit on A');
    assert.equal(await signInFrom(service, 1, ip), 429, 'over the limit on B');
    assert.equal(
      await signInFrom(service, 1, randomClientIp()),
      401,
      'another address is not limited',
    );
  });

  test('without Redis, each instance counts the per-IP limit on its own', async (t) => {
    if (skipWithoutPostgres(t)) return;
    // The documented behaviour: without a shared store, N instances allow N times the limit.
    const service = await Service.start(t, {
      instances: 2,
      authRateLimit: PER_IP_LIMIT,
      env: { PORTCULLIS_TRUST_PROXY: '127.0.0.1' },
    });
    const ip = randomClientIp();
    for (let n = 0; n < PER_IP_LIMIT; n += 1) {
      assert.equal(await signInFrom(service, 0, ip), 401, `attempt ${n + 1} on A`);
    }
    assert.equal(await signInFrom(service, 0, ip), 429, 'A has counted its own limit');
    for (let n = 0; n < PER_IP_LIMIT; n += 1) {
      assert.equal(await signInFrom(service, 1, ip), 401, `attempt ${n + 1} on B`);
    }
    assert.equal(await signInFrom(service, 1, ip), 429, 'B has counted its own limit');
  });
});

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import {
  PUBLIC_ROUTES,
  RecoveryCodes,
  recoveryVerification,
  apiRoutes,
  callRoute,
  currentTotpCode,
  enrollEmail,
  errorOf,
  factorFingerprint,
  harmfulBody,
  meOf,
  orgFingerprint,
  routeKey,
  signedIn,
  type Route,
} from './attack-helpers.ts';
import { ADMIN, Service, type Client } from './harness.ts';

/*
 * MFA bypass: a session that has passed the password but not the second factor (mfa_required), or
 * that must enroll first (enrollment_required), reaches nothing but what its state is for. Every
 * route the server lists in its OpenAPI document is called with a body that would do harm if it
 * got through; each must answer 403 with the session's state as the error, and change nothing.
 */

/** What a session waiting for its second factor may reach. */
const MFA_PENDING_ALLOWED = new Set([
  'POST /api/v1/auth/mfa/verify',
  'POST /api/v1/auth/verification/{method}',
  'GET /api/v1/me',
  'POST /api/v1/auth/logout',
]);

/** What a session that must enroll may reach: the above, plus the enrollment itself. */
const ENROLLMENT_ALLOWED = new Set([
  ...MFA_PENDING_ALLOWED,
  'POST /api/v1/me/mfa/totp/setup',
  'POST /api/v1/me/mfa/totp/confirm',
  'POST /api/v1/me/mfa/email/setup',
  'POST /api/v1/me/mfa/email/confirm',
]);

type Account = { email: string; password: string; id: string };

test('MFA bypass', async (t) => {
  const service = await Service.start(t);
  const admin = await service.admin();
  await service.setPolicy(admin, 'enabled');
  const adminCodes = new RecoveryCodes((await admin.enrollTotp()).recoveryCodes);
  await service.setPolicy(admin, 'required');

  /** A user enrolled with an authenticator app (through the enrollment the policy demands). */
  const enrolledUser = async (role: 'admin' | 'member') => {
    const verification = role === 'admin' ? recoveryVerification(adminCodes) : undefined;
    const account = await service.createUser(admin, { role, verification });
    const client = await signedIn(service, account, 'enrollment_required');
    const enrolled = await client.enrollTotp();
    return { account, full: client, ...enrolled };
  };
  const member = await enrolledUser('member');
  const otherAdmin = await enrolledUser('admin');
  const unenrolledMember = await service.createUser(admin);
  const unenrolledAdmin = await service.createUser(admin, {
    role: 'admin',
    verification: recoveryVerification(adminCodes),
  });
  const victim = await enrolledUser('member');

  const routes = await apiRoutes(service);
  const keys = new Set(routes.map(routeKey));
  for (const allowed of ENROLLMENT_ALLOWED) {
    assert.ok(keys.has(allowed), `the allowlist names ${allowed}, which the server does not list`);
  }

  /** What the org and the victim look like from outside, before and after an attack. */
  const fingerprint = async () =>
    `${await orgFingerprint(admin)}\n${await factorFingerprint(victim.full)}`;

  /** Every route outside `allowed` and the public ones, called with `client`'s session. */
  const walk = async (client: Client, account: Account, allowed: Set<string>) => {
    const values = {
      id: victim.account.id,
      client_id: victim.account.id,
      method: 'totp',
      org: service.org,
    };
    const answers: string[] = [];
    const walked: Route[] = [];
    for (const route of routes) {
      const key = routeKey(route);
      if (PUBLIC_ROUTES.has(key) || allowed.has(key)) continue;
      walked.push(route);
      const body = harmfulBody(route, { password: account.password });
      const { status, error } = await errorOf(await callRoute(client, route, values, body));
      answers.push(`${key} → ${status} ${error}`);
    }
    return { answers, walked };
  };

  const expectEveryRouteRefused = async (
    client: Client,
    account: Account,
    state: 'mfa_required' | 'enrollment_required',
    allowed: Set<string>,
  ) => {
    const before = await fingerprint();
    const { answers, walked } = await walk(client, account, allowed);
    const expected = walked.map((route) => `${routeKey(route)} → 403 ${state}`);
    assert.deepEqual(answers, expected);
    assert.ok(walked.length >= 15, `only ${walked.length} routes walked`);
    assert.equal(await fingerprint(), before, 'a refused request changed the org or the victim');
    const me = await meOf(client);
    assert.equal(me.status, 200);
    assert.equal(me.session?.status, state, 'the session is still in the state it was in');
    t.diagnostic(`${state}: ${walked.length} routes refused for ${account.email}`);
  };

  await t.test(
    'a pre-MFA session of a member reaches no route but verify, email code, /me and logout, and changes nothing',
    async () => {
      const pending = await signedIn(service, member.account, 'mfa_required');
      await expectEveryRouteRefused(pending, member.account, 'mfa_required', MFA_PENDING_ALLOWED);
      // The allowlisted routes are reached: the right code completes the sign-in.
      const code = await member.authenticator.nextCode();
      const verified = await pending.verify('totp', code);
      assert.equal(verified.status, 200, await verified.clone().text());
      assert.equal(((await verified.json()) as { status: string }).status, 'authenticated');
    },
  );

  await t.test(
    'a pre-MFA session of an admin reaches no admin route and changes nothing',
    async () => {
      const pending = await signedIn(service, otherAdmin.account, 'mfa_required');
      await expectEveryRouteRefused(
        pending,
        otherAdmin.account,
        'mfa_required',
        MFA_PENDING_ALLOWED,
      );
      const logout = await pending.post('/auth/logout');
      assert.equal(logout.status, 204, 'logout is allowed while the second factor is pending');
      assert.equal((await pending.get('/me')).status, 401);
    },
  );

  await t.test(
    'an enrollment-only session of a member reaches nothing but the enrollment, and changes nothing',
    async () => {
      const enrolling = await signedIn(service, unenrolledMember, 'enrollment_required');
      await expectEveryRouteRefused(
        enrolling,
        unenrolledMember,
        'enrollment_required',
        ENROLLMENT_ALLOWED,
      );
      // The enrollment routes are reached: enrolling makes the session authenticated.
      await enrolling.enrollTotp();
      assert.equal((await meOf(enrolling)).session?.status, 'authenticated');
    },
  );

  await t.test(
    'an enrollment-only session of an admin reaches no admin route and changes nothing',
    async () => {
      const enrolling = await signedIn(service, unenrolledAdmin, 'enrollment_required');
      await expectEveryRouteRefused(
        enrolling,
        unenrolledAdmin,
        'enrollment_required',
        ENROLLMENT_ALLOWED,
      );
    },
  );

  await t.test('a confirm with no setup started activates nothing', async () => {
    const enrolling = await signedIn(service, unenrolledAdmin, 'enrollment_required');
    for (const path of ['/me/mfa/totp/confirm', '/me/mfa/email/confirm']) {
      const { status, error } = await errorOf(await enrolling.post(path, { code: '123456' }));
      assert.deepEqual({ status, error }, { status: 409, error: 'no_pending_setup' }, path);
    }
    assert.equal((await meOf(enrolling)).session?.status, 'enrollment_required');
    // The active factor's own current code does not confirm a replacement nobody started.
    const before = await factorFingerprint(victim.full);
    const code = currentTotpCode(victim.secret);
    service.secrets.add(code);
    const confirm = await errorOf(await victim.full.post('/me/mfa/totp/confirm', { code }));
    assert.deepEqual(confirm, { status: 409, error: 'no_pending_setup' });
    assert.equal(await factorFingerprint(victim.full), before);
  });

  await t.test('a verify with no sign-in waiting for a second factor is refused', async () => {
    const code = currentTotpCode(victim.secret);
    service.secrets.add(code);
    const anonymous = service.client();
    assert.deepEqual(await errorOf(await anonymous.verify('totp', code)), {
      status: 401,
      error: 'unauthenticated',
    });
    assert.deepEqual(await errorOf(await victim.full.verify('totp', code)), {
      status: 409,
      error: 'mfa_not_pending',
    });
    const enrolling = await signedIn(service, unenrolledAdmin, 'enrollment_required');
    assert.deepEqual(await errorOf(await enrolling.verify('totp', '123456')), {
      status: 409,
      error: 'mfa_not_pending',
    });
    assert.equal((await meOf(enrolling)).session?.status, 'enrollment_required');
  });

  await t.test(
    'an emailed code that was never asked for neither signs in nor steps up',
    async () => {
      const emailUser = await service.createUser(admin);
      const enrolling = await signedIn(service, emailUser, 'enrollment_required');
      await enrollEmail(service, enrolling, emailUser.email);
      const pending = await signedIn(service, emailUser, 'mfa_required');
      for (const code of ['000000', '123456']) {
        assert.deepEqual(await errorOf(await pending.verify('email', code)), {
          status: 401,
          error: 'invalid_code',
        });
      }
      assert.equal((await meOf(pending)).session?.status, 'mfa_required');
      const before = await factorFingerprint(enrolling);
      const stepUp = await enrolling.post('/me/recovery-codes', {
        verification: { method: 'email', code: '123456' },
      });
      assert.deepEqual(await errorOf(stepUp), { status: 401, error: 'invalid_code' });
      assert.equal(await factorFingerprint(enrolling), before);
    },
  );

  await t.test('a weaken confirm with no weaken request leaves the policy as it was', async () => {
    const full = await signedIn(service, ADMIN, 'mfa_required');
    const verified = await full.verify('recovery_code', adminCodes.next());
    assert.equal(verified.status, 200);
    const before = await orgFingerprint(full);
    for (const requestId of [randomUUID(), victim.account.id]) {
      const confirm = await full.post('/org/mfa/policy/weaken/confirm', {
        request_id: requestId,
        code: '123456',
      });
      assert.deepEqual(await errorOf(confirm), { status: 401, error: 'invalid_code' });
    }
    assert.equal(await orgFingerprint(full), before);
    assert.equal(
      ((await (await full.get('/org/mfa')).json()) as { policy: string }).policy,
      'required',
    );
  });

  await t.test('a password reset with no emailed token changes no password', async () => {
    const attempts: [unknown, number, string][] = [
      [
        { token: randomBytes(32).toString('base64url'), new_password: 'taken over passphrase' },
        400,
        'invalid_token',
      ],
      [{ token: victim.account.id, new_password: 'taken over passphrase' }, 400, 'invalid_token'],
      [{ new_password: 'taken over passphrase' }, 400, 'invalid_request'],
      [{ token: '', new_password: 'taken over passphrase' }, 400, 'invalid_request'],
    ];
    for (const [body, status, error] of attempts) {
      const reset = await service.client().post('/auth/password/reset', body);
      assert.deepEqual(await errorOf(reset), { status, error }, JSON.stringify(body));
    }
    await signedIn(service, victim.account, 'mfa_required');
    const taken = await service.client().signIn(victim.account.email, 'taken over passphrase');
    assert.equal(taken.status, 401);
  });

  await t.test('a TOTP authenticator from the setup still signs the victim in', async () => {
    // The victim's factor survived every attack above: its authenticator still works.
    const pending = await signedIn(service, victim.account, 'mfa_required');
    const code = await victim.authenticator.nextCode();
    service.secrets.add(code);
    assert.equal((await pending.verify('totp', code)).status, 200);
  });
});

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  RecoveryCodes,
  errorOf,
  meOf,
  recoveryVerification,
  resetTokenFor,
  signedIn,
  tokenStatus,
} from './attack-helpers.ts';
import { ADMIN, Service, type Client } from './harness.ts';

/*
 * Sessions: a token is never carried across a sign-in or a change of state (fixation), a token the
 * server did not issue opens nothing, and each way of ending sessions (logout, password change,
 * password reset, an admin's MFA reset, an org-wide invalidation) ends every older token, checked
 * with GET /me on each old token.
 */

const NEW_PASSWORD = 'a brand new passphrase';

test('session fixation, rotation and invalidation', async (t) => {
  const service = await Service.start(t);
  const admin = await service.admin();
  await service.setPolicy(admin, 'enabled');
  const adminCodes = new RecoveryCodes((await admin.enrollTotp()).recoveryCodes);

  const tokenOf = (client: Client) => {
    assert.ok(client.cookie, 'the client holds a session cookie');
    return client.cookie;
  };
  /** Every token must answer 401 on GET /me. */
  const expectDead = async (tokens: string[], what: string) => {
    const statuses = await Promise.all(tokens.map((token) => tokenStatus(service, token)));
    assert.deepEqual(
      statuses,
      tokens.map(() => 401),
      `${what}: an old token still opens a session`,
    );
  };
  /** A member with an authenticator, fully signed in, and their codes. */
  const totpMember = async () => {
    const account = await service.createUser(admin);
    const full = await signedIn(service, account, 'authenticated');
    const enrolled = await full.enrollTotp();
    return { account, full, ...enrolled, codes: new RecoveryCodes(enrolled.recoveryCodes) };
  };
  const fullSignIn = async (member: Awaited<ReturnType<typeof totpMember>>) => {
    const client = await signedIn(service, member.account, 'mfa_required');
    assert.equal((await client.verify('recovery_code', member.codes.next())).status, 200);
    return client;
  };

  await t.test(
    'a cookie planted before sign-in is replaced at sign-in and opens nothing',
    async () => {
      const account = await service.createUser(admin);
      const client = service.client();
      const planted = randomBytes(32).toString('base64url');
      client.cookie = planted;
      assert.deepEqual(await errorOf(await client.get('/me')), {
        status: 401,
        error: 'unauthenticated',
      });
      assert.equal((await client.signIn(account.email, account.password)).status, 200);
      assert.notEqual(tokenOf(client), planted);
      await expectDead([planted], 'the planted cookie');
      assert.equal(await tokenStatus(service, tokenOf(client)), 200);

      // A live session's cookie sent along with a new sign-in is ended, not carried over.
      const before = tokenOf(client);
      const other = await service.createUser(admin);
      assert.equal((await client.signIn(other.email, other.password)).status, 200);
      assert.notEqual(tokenOf(client), before);
      await expectDead([before], 'the cookie sent with the sign-in');
      const me = await meOf(client);
      assert.equal((me.body.user as { email: string }).email, other.email);
    },
  );

  await t.test('the pre-MFA token dies when the second factor is verified', async () => {
    const member = await totpMember();
    const pending = await signedIn(service, member.account, 'mfa_required');
    const preMfa = tokenOf(pending);
    const code = await member.authenticator.nextCode();
    assert.equal((await pending.verify('totp', code)).status, 200);
    assert.notEqual(tokenOf(pending), preMfa);
    await expectDead([preMfa], 'the pre-MFA token');
    assert.deepEqual((await meOf(pending)).session, { status: 'authenticated', aal: 2 });
  });

  await t.test(
    'a forged, altered or unknown cookie gets nothing on any kind of route',
    async () => {
      const member = await totpMember();
      const real = tokenOf(member.full);
      const flip = (c: string) => (c === 'A' ? 'B' : 'A');
      const forged = [
        randomBytes(32).toString('base64url'),
        `${flip(real[0]!)}${real.slice(1)}`,
        `${real.slice(0, -1)}${flip(real.at(-1)!)}`,
        real.slice(0, -1),
        `${real}A`,
        real.toUpperCase(),
        createHash('sha256').update(real).digest('hex'),
        createHash('sha256').update(real).digest('base64url'),
        'A'.repeat(128),
        'A'.repeat(129),
        'undefined',
        'null',
        "' or '1'='1",
        '%00',
      ];
      const answers: string[] = [];
      for (const cookie of forged) {
        for (const [method, path] of [
          ['GET', '/me'],
          ['GET', '/org/users'],
          ['POST', '/me/recovery-codes'],
          ['POST', '/auth/logout'],
        ] as const) {
          const response = await fetch(`${service.url()}/api/v1${path}`, {
            method,
            headers: {
              cookie: `portcullis_session=${cookie}`,
              ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
            },
            ...(method === 'POST' ? { body: '{}' } : {}),
          });
          const { status, error } = await errorOf(response);
          answers.push(`${cookie} ${method} ${path} → ${status} ${error}`);
        }
      }
      const expected = answers.map((line) => line.replace(/→ .*$/, '→ 401 unauthenticated'));
      assert.deepEqual(answers, expected);
      assert.equal(await tokenStatus(service, real), 200, 'the real session is untouched');
    },
  );

  await t.test('logout ends its own token and no other', async () => {
    const account = await service.createUser(admin);
    const first = await signedIn(service, account, 'authenticated');
    const second = await signedIn(service, account, 'authenticated');
    const token = tokenOf(first);
    assert.equal((await first.post('/auth/logout')).status, 204);
    await expectDead([token], 'logout');
    assert.equal(await tokenStatus(service, tokenOf(second)), 200);
  });

  await t.test(
    'a password change ends every older token of the user, its own included',
    async () => {
      const account = await service.createUser(admin);
      const sessions = [
        await signedIn(service, account, 'authenticated'),
        await signedIn(service, account, 'authenticated'),
        await signedIn(service, account, 'authenticated'),
      ];
      const old = sessions.map(tokenOf);
      const acting = sessions[0]!;
      const changed = await acting.post('/me/password', {
        current_password: account.password,
        new_password: NEW_PASSWORD,
      });
      service.secrets.add(NEW_PASSWORD);
      assert.equal(changed.status, 204, await changed.clone().text());
      await expectDead(old, 'password change');
      assert.notEqual(tokenOf(acting), old[0]);
      assert.equal(await tokenStatus(service, tokenOf(acting)), 200, 'the acting session goes on');
    },
  );

  await t.test(
    'a password reset ends every token of the user, pre-MFA ones included, and skips no factor',
    async () => {
      const member = await totpMember();
      const full = await fullSignIn(member);
      const pending = await signedIn(service, member.account, 'mfa_required');
      const old = [tokenOf(member.full), tokenOf(full), tokenOf(pending)];
      const token = await resetTokenFor(service, member.account);
      const reset = await service.client().post('/auth/password/reset', {
        token,
        new_password: NEW_PASSWORD,
      });
      assert.equal(reset.status, 204, await reset.clone().text());
      await expectDead(old, 'password reset');
      await signedIn(service, { ...member.account, password: NEW_PASSWORD }, 'mfa_required');
    },
  );

  await t.test("an admin's MFA reset ends every token of the user", async () => {
    const member = await totpMember();
    const full = await fullSignIn(member);
    const pending = await signedIn(service, member.account, 'mfa_required');
    const old = [tokenOf(member.full), tokenOf(full), tokenOf(pending)];
    const reset = await admin.post(`/org/users/${member.account.id}/mfa/reset`, {
      verification: recoveryVerification(adminCodes),
    });
    assert.equal(reset.status, 204, await reset.clone().text());
    await expectDead(old, 'MFA reset');
    assert.equal(await tokenStatus(service, tokenOf(admin)), 200, "the admin's session goes on");
  });

  await t.test(
    'a policy strengthening with invalidate ends every older token of the org',
    async () => {
      const member = await totpMember();
      const full = await fullSignIn(member);
      const pending = await signedIn(service, member.account, 'mfa_required');
      const plain = await signedIn(service, await service.createUser(admin), 'authenticated');
      const otherAdmin = await signedIn(
        service,
        await service.createUser(admin, {
          role: 'admin',
          verification: recoveryVerification(adminCodes),
        }),
        'authenticated',
      );
      const adminElsewhere = await signedIn(service, ADMIN, 'mfa_required');
      const old = [member.full, full, pending, plain, otherAdmin, adminElsewhere, admin].map(
        tokenOf,
      );
      const strengthened = await admin.put('/org/mfa/policy', {
        policy: 'required',
        sessions: 'invalidate',
      });
      assert.equal(strengthened.status, 200, await strengthened.clone().text());
      await expectDead(old, 'org-wide invalidation');
      assert.deepEqual(
        (await meOf(admin)).session?.status,
        'authenticated',
        'the acting admin goes on',
      );
    },
  );

  await t.test('the enrollment token dies when the enrollment completes', async () => {
    const account = await service.createUser(admin);
    const enrolling = await signedIn(service, account, 'enrollment_required');
    const token = tokenOf(enrolling);
    await enrolling.enrollTotp();
    assert.notEqual(tokenOf(enrolling), token);
    await expectDead([token], 'the enrollment token');
    assert.deepEqual((await meOf(enrolling)).session, { status: 'authenticated', aal: 2 });
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import {
  RecoveryCodes,
  codeMailCount,
  createOrg,
  enrollEmail,
  errorOf,
  factorFingerprint,
  meOf,
  nextEmailedCode,
  orgFingerprint,
  recoveryVerification,
  signedIn,
  OTHER_ADMIN,
  OTHER_ORG,
} from './attack-helpers.ts';
import { ADMIN, Service, type Client } from './harness.ts';

/*
 * Binding: every code is good for one user, one session, one purpose and one org (and a policy
 * code for one request). Each attack below takes a live, right code from one of them and spends
 * it on another; each is refused, and the code then still works where it belongs, which proves
 * the refusal was the binding and not a dead code.
 */

const refused = { status: 401, error: 'invalid_code' };

test('binding of codes, step-ups and policy requests', async (t) => {
  const service = await Service.start(t);
  await createOrg(service, OTHER_ORG, OTHER_ADMIN);

  const admin = await service.admin();
  await service.setPolicy(admin, 'enabled');
  const totpCodes = new RecoveryCodes((await admin.enrollTotp()).recoveryCodes);
  // Turning on a second method issues a new set of recovery codes: the first set is dead.
  const adminCodes = new RecoveryCodes(
    await enrollEmail(service, admin, ADMIN.email, recoveryVerification(totpCodes)),
  );

  /** A member of acme with the email method on, and their recovery codes. */
  const emailUser = async (inviter: Client, org = service.org, email?: string) => {
    const account = await service.createUser(inviter, email ? { email } : {});
    const full = await signedIn(service, account, 'authenticated', org);
    const codes = new RecoveryCodes(await enrollEmail(service, full, account.email));
    return { account, full, codes, org };
  };
  type EmailUser = Awaited<ReturnType<typeof emailUser>>;

  /** A pre-MFA session that asked for its emailed code; the code as read from the inbox. */
  const pendingWithCode = async (user: EmailUser) => {
    const pending = await signedIn(service, user.account, 'mfa_required', user.org);
    const seen = codeMailCount(service, user.account.email);
    const sent = await pending.post('/auth/verification/email');
    assert.equal(sent.status, 202, await sent.clone().text());
    return { pending, code: await nextEmailedCode(service, user.account.email, seen) };
  };

  /** A step-up code sent to a fully signed-in session. */
  const stepUpCode = async (client: Client, address: string) => {
    const seen = codeMailCount(service, address);
    const sent = await client.post('/auth/verification/email');
    assert.equal(sent.status, 202, await sent.clone().text());
    return nextEmailedCode(service, address, seen);
  };

  const globexAdmin = service.client();
  assert.equal(
    (await globexAdmin.signIn(OTHER_ADMIN.email, OTHER_ADMIN.password, OTHER_ORG)).status,
    200,
  );
  const strengthened = await globexAdmin.put('/org/mfa/policy', {
    policy: 'enabled',
    sessions: 'keep',
  });
  assert.equal(strengthened.status, 200, await strengthened.clone().text());
  // The admin who turns MFA on without a factor enrolls first.
  assert.equal((await meOf(globexAdmin)).session?.status, 'enrollment_required');
  await enrollEmail(service, globexAdmin, OTHER_ADMIN.email);
  assert.equal((await meOf(globexAdmin)).session?.status, 'authenticated');

  const first = await emailUser(admin);
  const second = await emailUser(admin);

  await t.test('an emailed sign-in code of one user does not sign in another', async () => {
    const one = await pendingWithCode(first);
    const two = await pendingWithCode(second);
    assert.deepEqual(await errorOf(await two.pending.verify('email', one.code)), refused);
    assert.deepEqual(await errorOf(await one.pending.verify('email', two.code)), refused);
    assert.equal((await meOf(two.pending)).session?.status, 'mfa_required');
    assert.equal((await one.pending.verify('email', one.code)).status, 200);
    assert.equal((await two.pending.verify('email', two.code)).status, 200);
  });

  await t.test(
    'an emailed sign-in code of one session does not complete another session of the same user',
    async () => {
      const user = await emailUser(admin);
      const other = await signedIn(service, user.account, 'mfa_required');
      const { pending, code } = await pendingWithCode(user);
      assert.deepEqual(await errorOf(await other.verify('email', code)), refused);
      assert.equal((await meOf(other)).session?.status, 'mfa_required');
      assert.equal((await pending.verify('email', code)).status, 200);
    },
  );

  await t.test('a sign-in code does not step up, and a step-up code does not sign in', async () => {
    const user = await emailUser(admin);
    const { pending, code: loginCode } = await pendingWithCode(user);
    const before = await factorFingerprint(user.full);
    const regenerate = (verification: unknown) =>
      user.full.post('/me/recovery-codes', { verification });
    assert.deepEqual(
      await errorOf(await regenerate({ method: 'email', code: loginCode })),
      refused,
    );
    const stepUp = await stepUpCode(user.full, user.account.email);
    assert.deepEqual(await errorOf(await pending.verify('email', stepUp)), refused);
    assert.equal(await factorFingerprint(user.full), before);
    assert.equal((await meOf(pending)).session?.status, 'mfa_required');
    // Each code still serves its own purpose in its own session.
    assert.equal((await regenerate({ method: 'email', code: stepUp })).status, 200);
    assert.equal((await pending.verify('email', loginCode)).status, 200);
  });

  await t.test('an enrollment code neither steps up nor signs in', async () => {
    const account = await service.createUser(admin);
    const full = await signedIn(service, account, 'authenticated');
    const codes = new RecoveryCodes((await full.enrollTotp()).recoveryCodes);
    const seen = codeMailCount(service, account.email);
    const setup = await full.post('/me/mfa/email/setup', {
      verification: recoveryVerification(codes),
    });
    assert.equal(setup.status, 202, await setup.clone().text());
    const enrollCode = await nextEmailedCode(service, account.email, seen);
    const stepUp = await full.post('/me/recovery-codes', {
      verification: { method: 'email', code: enrollCode },
    });
    assert.deepEqual(await errorOf(stepUp), refused);
    const pending = await signedIn(service, account, 'mfa_required');
    assert.deepEqual(await errorOf(await pending.verify('email', enrollCode)), refused);
    assert.equal((await meOf(pending)).session?.status, 'mfa_required');
    const confirmed = await full.post('/me/mfa/email/confirm', { code: enrollCode });
    assert.equal(confirmed.status, 200, 'the enrollment code was still good for the enrollment');
  });

  await t.test(
    'a recovery code of one user serves another neither to sign in nor to step up',
    async () => {
      const stolen = first.codes.next();
      const pending = await signedIn(service, second.account, 'mfa_required');
      assert.deepEqual(await errorOf(await pending.verify('recovery_code', stolen)), refused);
      const before = await factorFingerprint(second.full);
      const stepUp = await second.full.post('/me/recovery-codes', {
        verification: { method: 'recovery_code', code: stolen },
      });
      assert.deepEqual(await errorOf(stepUp), refused);
      assert.equal(await factorFingerprint(second.full), before);
      const owner = await signedIn(service, first.account, 'mfa_required');
      assert.equal((await owner.verify('recovery_code', stolen)).status, 200);
    },
  );

  await t.test(
    'a code of a user in one org does not sign in the user with the same address in another org',
    async () => {
      const original = await emailUser(admin);
      const twin = await emailUser(globexAdmin, OTHER_ORG, original.account.email);
      // Both accounts read the same inbox: the binding is to the account, never to the address.
      const acme = await pendingWithCode(original);
      const globex = await pendingWithCode(twin);
      assert.notEqual(acme.code, globex.code);
      assert.deepEqual(await errorOf(await globex.pending.verify('email', acme.code)), refused);
      assert.deepEqual(await errorOf(await acme.pending.verify('email', globex.code)), refused);
      const recovery = original.codes.next();
      assert.deepEqual(
        await errorOf(await globex.pending.verify('recovery_code', recovery)),
        refused,
      );
      assert.equal((await acme.pending.verify('email', acme.code)).status, 200);
      assert.equal((await globex.pending.verify('email', globex.code)).status, 200);
    },
  );

  await t.test(
    'a policy-weakening code is bound to its admin, org, request and purpose',
    async () => {
      const otherAdminAccount = await service.createUser(admin, {
        role: 'admin',
        verification: recoveryVerification(adminCodes),
      });
      const otherAdmin = await signedIn(service, otherAdminAccount, 'authenticated');
      const acmeBefore = await orgFingerprint(admin);
      const globexBefore = await orgFingerprint(globexAdmin);

      const seen = codeMailCount(service, ADMIN.email);
      const weaken = await admin.post('/org/mfa/policy/weaken', { policy: 'disabled' });
      assert.equal(weaken.status, 202, await weaken.clone().text());
      const { request_id: requestId } = (await weaken.json()) as { request_id: string };
      const policyCode = await nextEmailedCode(service, ADMIN.email, seen);
      const confirm = (client: Client, request_id: string, code: string) =>
        client.post('/org/mfa/policy/weaken/confirm', { request_id, code });

      // Another admin of the same org, and the admin of another org.
      assert.deepEqual(await errorOf(await confirm(otherAdmin, requestId, policyCode)), refused);
      assert.deepEqual(await errorOf(await confirm(globexAdmin, requestId, policyCode)), refused);
      // Another request of the same admin.
      assert.deepEqual(await errorOf(await confirm(admin, randomUUID(), policyCode)), refused);
      // Another purpose: the policy code as a step-up, and a step-up code as the policy code.
      const methods = (verification: unknown) =>
        admin.put('/org/mfa/methods', { totp: true, email: true, verification });
      assert.deepEqual(
        await errorOf(await methods({ method: 'email', code: policyCode })),
        refused,
      );
      const stepUp = await stepUpCode(admin, ADMIN.email);
      assert.deepEqual(await errorOf(await confirm(admin, requestId, stepUp)), refused);
      // A request of the other org, confirmed by this org's admin.
      const globexSeen = codeMailCount(service, OTHER_ADMIN.email);
      const globexWeaken = await globexAdmin.post('/org/mfa/policy/weaken', { policy: 'disabled' });
      assert.equal(globexWeaken.status, 202, await globexWeaken.clone().text());
      const globexRequest = ((await globexWeaken.json()) as { request_id: string }).request_id;
      const globexCode = await nextEmailedCode(service, OTHER_ADMIN.email, globexSeen);
      assert.deepEqual(await errorOf(await confirm(admin, globexRequest, globexCode)), refused);

      assert.equal(await orgFingerprint(admin), acmeBefore, 'acme changed');
      assert.equal(await orgFingerprint(globexAdmin), globexBefore, 'globex changed');

      // Where they belong, both codes still work.
      assert.equal((await methods({ method: 'email', code: stepUp })).status, 200);
      const confirmed = await confirm(admin, requestId, policyCode);
      assert.equal(confirmed.status, 200, await confirmed.clone().text());
      assert.deepEqual(await confirmed.json(), { policy: 'disabled' });
      assert.equal(await orgFingerprint(globexAdmin), globexBefore, 'globex changed');
    },
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Authenticator } from '../helpers/authenticator.ts';
import {
  RecoveryCodes,
  codeMailCount,
  currentTotpCode,
  enrollEmail,
  errorOf,
  factorFingerprint,
  meOf,
  nextEmailedCode,
  recoveryVerification,
  signedIn,
} from './attack-helpers.ts';
import { Service } from './harness.ts';
import { brokenInvariants } from './invariants.ts';

/*
 * Enrollment takeover: whoever knows only the password must not get to set up, confirm or replace
 * a second factor of a user who already has one. That covers a session waiting for its second
 * factor, a session that was sent to enrollment before the user enrolled elsewhere, and a fully
 * signed-in session that adds or replaces a method without a fresh step-up.
 */

const ENROLLMENT_ROUTES = [
  '/me/mfa/totp/setup',
  '/me/mfa/totp/confirm',
  '/me/mfa/email/setup',
  '/me/mfa/email/confirm',
];

test('enrollment takeover', async (t) => {
  const service = await Service.start(t);
  const admin = await service.admin();
  await service.setPolicy(admin, 'enabled');
  const adminCodes = new RecoveryCodes((await admin.enrollTotp()).recoveryCodes);
  await service.setPolicy(admin, 'required');

  /** A user who enrolled an authenticator app through the enrollment the policy demands. */
  const enrolledUser = async () => {
    const account = await service.createUser(admin);
    const full = await signedIn(service, account, 'enrollment_required');
    const enrolled = await full.enrollTotp();
    return { account, full, ...enrolled, codes: new RecoveryCodes(enrolled.recoveryCodes) };
  };

  const refusedAs = async (response: Response, status: number, error: string) =>
    assert.deepEqual(await errorOf(response), { status, error });

  await t.test(
    'a pre-MFA session of an enrolled user can neither set up nor confirm any factor',
    async () => {
      const user = await enrolledUser();
      const before = await factorFingerprint(user.full);
      const mails = codeMailCount(service, user.account.email);
      const pending = await signedIn(service, user.account, 'mfa_required');
      for (const path of ENROLLMENT_ROUTES) {
        const body = path.endsWith('confirm') ? { code: currentTotpCode(user.secret) } : {};
        await refusedAs(await pending.post(path, body), 403, 'mfa_required');
      }
      assert.equal(await factorFingerprint(user.full), before);
      assert.equal(codeMailCount(service, user.account.email), mails, 'no code was emailed');
      assert.equal((await meOf(pending)).session?.status, 'mfa_required');
    },
  );

  await t.test(
    'a password-only session opened before the user enrolled cannot set up a factor afterwards',
    async () => {
      const account = await service.createUser(admin);
      const stale = await signedIn(service, account, 'enrollment_required');
      const owner = await signedIn(service, account, 'enrollment_required');
      const { authenticator } = await owner.enrollTotp();
      const before = await factorFingerprint(owner);
      const mails = codeMailCount(service, account.email);

      await refusedAs(await stale.post('/me/mfa/totp/setup', {}), 403, 'mfa_required');
      await refusedAs(await stale.post('/me/mfa/email/setup', {}), 403, 'mfa_required');
      assert.equal(codeMailCount(service, account.email), mails, 'no code was emailed');
      await refusedAs(await stale.verify('totp', '123456'), 409, 'mfa_not_pending');
      assert.deepEqual((await meOf(stale)).session, { status: 'enrollment_required', aal: 1 });
      assert.equal(await factorFingerprint(owner), before, "the owner's factor was replaced");

      // The owner's authenticator still signs in: nothing was replaced behind their back.
      const pending = await signedIn(service, account, 'mfa_required');
      const code = await authenticator.nextCode();
      service.secrets.add(code);
      assert.equal((await pending.verify('totp', code)).status, 200);
    },
  );

  await t.test(
    'an authenticator set up before the user enrolled email elsewhere cannot be confirmed afterwards',
    async () => {
      const account = await service.createUser(admin);
      const stale = await signedIn(service, account, 'enrollment_required');
      const setup = await stale.post('/me/mfa/totp/setup', {});
      assert.equal(setup.status, 200, 'the setup the policy demands starts');
      const { secret } = (await setup.json()) as { secret: string };
      service.secrets.add(secret);

      const owner = await signedIn(service, account, 'enrollment_required');
      await enrollEmail(service, owner, account.email);
      const before = await factorFingerprint(owner);

      const code = await new Authenticator(secret).nextCode();
      service.secrets.add(code);
      await refusedAs(await stale.post('/me/mfa/totp/confirm', { code }), 403, 'mfa_required');
      assert.deepEqual((await meOf(stale)).session, { status: 'enrollment_required', aal: 1 });
      assert.equal(await factorFingerprint(owner), before, 'a second method was added');
    },
  );

  await t.test(
    'an email setup started before the user enrolled an authenticator elsewhere cannot be confirmed afterwards',
    async () => {
      const account = await service.createUser(admin);
      const stale = await signedIn(service, account, 'enrollment_required');
      const seen = codeMailCount(service, account.email);
      assert.equal((await stale.post('/me/mfa/email/setup', {})).status, 202);
      const code = await nextEmailedCode(service, account.email, seen);

      const owner = await signedIn(service, account, 'enrollment_required');
      await owner.enrollTotp();
      const before = await factorFingerprint(owner);

      await refusedAs(await stale.post('/me/mfa/email/confirm', { code }), 403, 'mfa_required');
      assert.deepEqual((await meOf(stale)).session, { status: 'enrollment_required', aal: 1 });
      assert.equal(await factorFingerprint(owner), before, 'a second method was added');
    },
  );

  await t.test(
    'a signed-in user adds no second method and replaces no authenticator without a step-up',
    async () => {
      const user = await enrolledUser();
      const before = await factorFingerprint(user.full);
      const mails = codeMailCount(service, user.account.email);
      for (const path of ['/me/mfa/totp/setup', '/me/mfa/email/setup']) {
        await refusedAs(await user.full.post(path, {}), 403, 'verification_required');
        const wrong = { verification: { method: 'totp', code: '000000' } };
        await refusedAs(await user.full.post(path, wrong), 401, 'invalid_code');
        const foreign = { verification: recoveryVerification(adminCodes) };
        await refusedAs(await user.full.post(path, foreign), 401, 'invalid_code');
      }
      // With nothing pending, no code confirms anything, not even the active factor's own.
      const own = { code: currentTotpCode(user.secret) };
      await refusedAs(await user.full.post('/me/mfa/totp/confirm', own), 409, 'no_pending_setup');
      await refusedAs(
        await user.full.post('/me/mfa/email/confirm', { code: '123456' }),
        409,
        'no_pending_setup',
      );
      assert.equal(codeMailCount(service, user.account.email), mails, 'no code was emailed');
      assert.equal(await factorFingerprint(user.full), before);
    },
  );

  await t.test(
    'a replacement authenticator set up with a step-up replaces nothing until it is confirmed',
    async () => {
      const user = await enrolledUser();
      const before = (await meOf(user.full)).mfa?.methods;
      const setup = await user.full.post('/me/mfa/totp/setup', {
        verification: recoveryVerification(user.codes),
      });
      assert.equal(setup.status, 200, await setup.clone().text());
      service.secrets.add(((await setup.json()) as { secret: string }).secret);
      assert.deepEqual((await meOf(user.full)).mfa?.methods, before, 'the factor was replaced');
      const pending = await signedIn(service, user.account, 'mfa_required');
      const code = await user.authenticator.nextCode();
      service.secrets.add(code);
      assert.equal((await pending.verify('totp', code)).status, 200, 'the old app still works');
    },
  );

  await t.test(
    'a user whose only method was turned off still enrolls an allowed one, after a recovery code',
    async () => {
      // The refusals above must not lock out the one legitimate enrollment of a user who has a
      // factor: the org turned their method off, and a recovery code sent them to enrollment.
      const user = await enrolledUser();
      const methods = await admin.put('/org/mfa/methods', {
        totp: false,
        email: true,
        verification: recoveryVerification(adminCodes),
      });
      assert.equal(methods.status, 200, await methods.clone().text());
      const pending = await signedIn(service, user.account, 'mfa_required');
      const verified = await pending.verify('recovery_code', user.codes.next());
      assert.equal(verified.status, 200);
      assert.deepEqual((await meOf(pending)).session, { status: 'enrollment_required', aal: 2 });
      await refusedAs(
        await pending.post('/me/mfa/totp/setup', {}),
        403,
        'method_not_allowed_by_org',
      );
      await enrollEmail(service, pending, user.account.email);
      assert.deepEqual((await meOf(pending)).session, { status: 'authenticated', aal: 2 });
    },
  );

  await t.test('after every attempt the database keeps its invariants', async () => {
    assert.deepEqual(await service.inspectDatabase(brokenInvariants), []);
  });
});

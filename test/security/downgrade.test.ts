import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecoveryCodes, enrollEmail, errorOf, recoveryVerification } from './attack-helpers.ts';
import { Service, type Client } from './harness.ts';

/*
 * Downgrade by an admin's change: a user whose only method the org turns off, with no recovery
 * code left, holds a factor they can no longer prove. Neither the password alone nor a fresh
 * enrollment at AAL1 may stand in for it, under "enabled" or "required", at sign-in or at
 * step-up. The admin learns beforehand how many users the change strands, and confirms.
 */

/** A member whose only method is email, with every recovery code spent, and a session at AAL2. */
async function emailOnlyMemberWithoutCodes(service: Service, admin: Client) {
  const member = await service.createUser(admin);
  const session = service.client();
  await session.signIn(member.email, member.password);
  const codes = await enrollEmail(service, session, member.email);
  for (const code of codes) {
    const client = service.client();
    const signedIn = await client.signIn(member.email, member.password);
    assert.equal(((await signedIn.json()) as { status: string }).status, 'mfa_required');
    const verified = await client.verify('recovery_code', code);
    assert.equal(verified.status, 200, await verified.clone().text());
  }
  return { ...member, session };
}

async function signInAnswer(service: Service, account: { email: string; password: string }) {
  const client = service.client();
  const response = await client.signIn(account.email, account.password);
  const body = (await response.clone().json()) as Record<string, unknown>;
  return { status: response.status, body, cookie: response.headers.get('set-cookie') };
}

test('turning a method off never lets its users fall back to the password', async (t) => {
  const service = await Service.start(t);
  const admin = await service.admin();
  await service.setPolicy(admin, 'enabled');
  const adminCodes = new RecoveryCodes((await admin.enrollTotp()).recoveryCodes);

  const stranded = await emailOnlyMemberWithoutCodes(service, admin);
  const withCodes = await service.createUser(admin);
  const withCodesSession = service.client();
  await withCodesSession.signIn(withCodes.email, withCodes.password);
  await enrollEmail(service, withCodesSession, withCodes.email);

  await t.test('the admin is told how many users would be stranded, and confirms', async () => {
    const verification = recoveryVerification(adminCodes);
    const asked = await admin.put('/org/mfa/methods', { totp: true, email: false, verification });
    assert.equal(asked.status, 409, await asked.clone().text());
    const body = (await asked.json()) as { error: string; stranded_users: number };
    assert.deepEqual([body.error, body.stranded_users], ['methods_strand_users', 1]);

    const wrongCount = await admin.put('/org/mfa/methods', {
      totp: true,
      email: false,
      verification,
      confirm_stranded_users: 2,
    });
    assert.deepEqual(await errorOf(wrongCount), { status: 409, error: 'methods_strand_users' });

    // Learning the number spent no code: the same recovery code confirms the change.
    const confirmed = await admin.put('/org/mfa/methods', {
      totp: true,
      email: false,
      verification,
      confirm_stranded_users: 1,
    });
    assert.equal(confirmed.status, 200, await confirmed.clone().text());
  });

  await t.test('under "enabled", the stranded user cannot sign in with the password', async () => {
    const answer = await signInAnswer(service, stranded);
    assert.equal(answer.status, 403, JSON.stringify(answer.body));
    assert.equal(answer.body.error, 'no_usable_method');
    assert.match(String(answer.body.message), /Ask an admin to reset your MFA/);
    assert.equal(answer.cookie, null, 'no session of any kind');
  });

  await t.test('a user with recovery codes left is offered only those', async () => {
    const answer = await signInAnswer(service, withCodes);
    assert.equal(answer.status, 200);
    assert.deepEqual(
      [answer.body.status, answer.body.methods],
      ['mfa_required', ['recovery_code']],
    );
  });

  await t.test('a session of the stranded user can take no sensitive action', async () => {
    const password = await stranded.session.post('/me/password', {
      current_password: stranded.password,
      new_password: 'a password of the thief',
    });
    assert.deepEqual(await errorOf(password), { status: 403, error: 'no_usable_method' });
    const totp = await stranded.session.post('/me/mfa/totp/setup', {});
    assert.deepEqual(await errorOf(totp), { status: 403, error: 'no_usable_method' });
    const codes = await stranded.session.post('/me/recovery-codes', {});
    assert.deepEqual(await errorOf(codes), { status: 403, error: 'no_usable_method' });
  });

  await t.test('under "required", the stranded user is not sent to enrollment', async () => {
    await service.setPolicy(admin, 'required');
    const answer = await signInAnswer(service, stranded);
    assert.equal(answer.status, 403, JSON.stringify(answer.body));
    assert.equal(answer.body.error, 'no_usable_method');
    assert.equal(answer.cookie, null);
  });

  await t.test('after an admin resets their MFA, the user enrolls again', async () => {
    const reset = await admin.post(`/org/users/${stranded.id}/mfa/reset`, {
      verification: recoveryVerification(adminCodes),
    });
    assert.equal(reset.status, 204, await reset.clone().text());
    const answer = await signInAnswer(service, stranded);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.status, 'enrollment_required');
  });
});

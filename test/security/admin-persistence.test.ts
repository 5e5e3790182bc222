import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RecoveryCodes, errorOf, recoveryVerification } from './attack-helpers.ts';
import { ADMIN, Service } from './harness.ts';

/*
 * Admin persistence: someone holding a stolen admin session, but not the admin's second factor,
 * tries to make an admin of their own. That admin would enroll the thief's authenticator and
 * pass every later step-up. Creating an admin is a sensitive action; every admin hears of a new
 * admin, and the audit log names who added whom.
 */

const ADDED_SUBJECT = /a new admin was added/;

test('a stolen admin session cannot make an admin without the second factor', async (t) => {
  const service = await Service.start(t);
  const admin = await service.admin();
  await service.setPolicy(admin, 'enabled');
  const codes = new RecoveryCodes((await admin.enrollTotp()).recoveryCodes);
  const otherAdmin = await service.createUser(admin, {
    role: 'admin',
    verification: recoveryVerification(codes),
  });
  const mailsTo = (address: string) =>
    service.smtp.received.filter(
      (mail) =>
        mail.envelope.to.includes(address) && ADDED_SUBJECT.test(mail.headers.get('subject') ?? ''),
    );
  // The notifications of that first addition (to the admins there were then) are counted out.
  await waitFor(() => mailsTo(ADMIN.email).length === 1);
  const intruder = {
    email: 'intruder@evil.test',
    name: 'Intruder',
    role: 'admin',
    password: 'intruder passphrase',
  };
  service.secrets.add(intruder.password);

  await t.test('without a verification: 403 verification_required, and no user', async () => {
    const refused = await admin.post('/org/users', intruder);
    assert.equal(refused.status, 403, await refused.clone().text());
    const body = (await refused.json()) as { error: string; methods: string[] };
    assert.equal(body.error, 'verification_required');
    assert.deepEqual(body.methods, ['totp', 'recovery_code']);
    const signIn = await service.client().signIn(intruder.email, intruder.password);
    assert.equal(signIn.status, 401, 'the intruder has no account');
  });

  await t.test('with a wrong code: 401 invalid_code, and no user', async () => {
    const refused = await admin.post('/org/users', {
      ...intruder,
      verification: { method: 'totp', code: '000000' },
    });
    assert.deepEqual(await errorOf(refused), { status: 401, error: 'invalid_code' });
    const signIn = await service.client().signIn(intruder.email, intruder.password);
    assert.equal(signIn.status, 401);
  });

  // Tried first on a taken email: if that spent the code, the creation below would fail with it.
  const verification = recoveryVerification(codes);

  await t.test('a taken email spends no code', async () => {
    const taken = await admin.post('/org/users', {
      ...intruder,
      email: otherAdmin.email,
      verification,
    });
    assert.deepEqual(await errorOf(taken), { status: 409, error: 'email_taken' });
  });

  await t.test('a new member needs no step-up', async () => {
    const member = await admin.post('/org/users', {
      email: 'member@acme.test',
      name: 'Mia Member',
      role: 'member',
      password: 'member passphrase',
    });
    assert.equal(member.status, 201, await member.clone().text());
    assert.equal(mailsTo(ADMIN.email).length, 1, 'a new member is no news for admins');
  });

  await t.test('with the step-up: created, every admin told, the audit names both', async () => {
    const created = await admin.post('/org/users', {
      ...intruder,
      name: 'Nina New',
      email: 'nina@acme.test',
      verification,
    });
    assert.equal(created.status, 201, await created.clone().text());
    const { user } = (await created.json()) as { user: { id: string; role: string } };
    assert.equal(user.role, 'admin');

    await waitFor(
      () => mailsTo(ADMIN.email).length === 2 && mailsTo(otherAdmin.email).length === 1,
    );
    const mail = mailsTo(otherAdmin.email)[0]!;
    assert.match(
      mail.text ?? '',
      /Nina New <nina@acme\.test> was made an admin of Acme Corp by ada@acme\.test/,
    );
    assert.equal(mailsTo('nina@acme.test').length, 0, 'the new admin is not among those told');

    const audit = await admin.get(`/org/audit?type=user.created&user=${user.id}`);
    const { events } = (await audit.json()) as {
      events: { actor: { email: string }; target: { email: string }; details: { role: string } }[];
    };
    assert.deepEqual(
      events.map((e) => [e.actor.email, e.target.email, e.details.role]),
      [[ADMIN.email, 'nina@acme.test', 'admin']],
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the mail');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

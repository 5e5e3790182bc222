import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitForMail } from '../helpers/smtp.ts';
import { ADMIN, Service, type Client } from './harness.ts';

/*
 * An email address is where the password-reset link and the codes go. An address that a mail
 * library reads as a display name, a second recipient or a header (`victim<attacker@evil.test>`,
 * `victim.acme.test,attacker2@evil.test`) would send them somewhere else than the account's own
 * mailbox. Such addresses are refused when an account is made (a stored one that slipped in
 * earlier gets no mail at all: test/integration/org/mail-recipients.test.ts).
 */

const HOSTILE = [
  'victim<attacker@evil.test>',
  'victim.acme.test,attacker2@evil.test',
  'Victim <victim@acme.test>',
  'victim@acme.test (attacker@evil.test)',
  'victim@acme.test;attacker@evil.test',
  'victim@acme.test\r\nBcc: attacker@evil.test',
  '"attacker@evil.test"@acme.test',
  '"a b"@acme.test',
  'attacker%evil.test@acme.test',
  '\u0430da@acme.test',
];

const RESET_SUBJECT = 'reset your password';

async function forgotPassword(service: Service, email: string): Promise<void> {
  const response = await service.client().post('/auth/password/forgot', {
    org: service.org,
    email,
  });
  assert.equal(response.status, 202, await response.clone().text());
}

async function assertCreationRefused(admin: Client, body: Record<string, unknown>) {
  const response = await admin.post('/org/users', body);
  const answer = {
    status: response.status,
    error: ((await response.json()) as { error?: string }).error,
  };
  assert.deepEqual(answer, { status: 400, error: 'invalid_email' }, JSON.stringify(body.email));
}

test('mail goes to the stored address and nowhere else', async (t) => {
  const service = await Service.start(t);
  const admin = await service.admin();

  await t.test(
    'an address that is not a bare mailbox is refused with 400 invalid_email',
    async () => {
      for (const email of HOSTILE) {
        await assertCreationRefused(admin, {
          email,
          name: 'Victim',
          role: 'member',
          password: 'victim passphrase',
        });
        await assertCreationRefused(admin, { email, name: 'Victim', role: 'member', sso: true });
      }
      const users = await admin.get('/org/users');
      const { users: listed } = (await users.json()) as { users: { email: string }[] };
      assert.deepEqual(
        listed.map((user) => user.email),
        [ADMIN.email],
      );
    },
  );

  await t.test(
    'the reset link goes to exactly the stored address, as the one recipient',
    async () => {
      const member = await service.createUser(admin, { email: "O'Brien+mfa@acme.test" });
      await forgotPassword(service, member.email);
      // The local part is kept as stored; the domain was already lowercase.
      const mail = await waitForMail(service.smtp, member.email, RESET_SUBJECT);
      assert.deepEqual(mail.envelope.to, [member.email]);
      assert.equal(mail.headers.get('to'), member.email);
      assert.equal(mail.headers.get('cc'), undefined);
      assert.equal(mail.headers.get('bcc'), undefined);
      // Nothing else went out: the refused addresses above made no account and sent nothing.
      assert.deepEqual(
        service.smtp.received.map((received) => received.envelope.to),
        [[member.email]],
      );
    },
  );
});

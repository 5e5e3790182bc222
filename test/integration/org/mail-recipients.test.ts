import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { emailKey } from '../../../src/core/validation.ts';
import { createDevOutbox, createSmtpMailer } from '../../../src/mail/mailer.ts';
import { passwordChangedMessage, render } from '../../../src/mail/templates.ts';
import { createTestApp, seedOrg } from '../../helpers/app.ts';
import { makeTempDir, removeDir } from '../../helpers/process.ts';
import { startSmtpServer, waitForMail } from '../../helpers/smtp.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * Mail goes to the stored address exactly as it is, or nowhere: a stored value that is not a bare
 * mailbox (rows written before addresses were checked this strictly) is never handed to a parser
 * that could read a second address or a display name out of it.
 */

const MAIL_FROM = 'Portcullis <no-reply@portcullis.test>';

const store = useTestStore();
const content = passwordChangedMessage('Acme');

const HOSTILE = [
  'victim<attacker@evil.test>',
  'victim.acme.test,attacker2@evil.test',
  'a@acme.test;attacker@evil.test',
  'Victim <victim@acme.test>',
  'victim@acme.test (attacker@evil.test)',
  'victim@acme.test\r\nBcc: attacker@evil.test',
  '"attacker@evil.test"@acme.test',
  ' victim@acme.test',
];

test('the SMTP mailer sends to the stored address as the only recipient, in the envelope and the To header', async (t) => {
  const smtp = await startSmtpServer(t);
  const errors: Error[] = [];
  const mailer = createSmtpMailer(smtp.url, MAIL_FROM, (error) => errors.push(error));
  const address = "O'Brien+mfa@Mail.Acme-Corp.test";

  assert.equal(await mailer.send(render(address, content)), true);

  assert.deepEqual(errors, []);
  // The local part travels as stored; the mail library writes the domain, which DNS reads
  // without regard to case, in lowercase.
  const delivered = "O'Brien+mfa@mail.acme-corp.test";
  assert.deepEqual(
    smtp.received.map((mail) => mail.envelope.to),
    [[delivered]],
  );
  assert.equal(smtp.received[0]?.headers.get('to'), delivered);
});

test('a stored address that is not a bare mailbox gets no mail at all, reported without the address', async (t) => {
  const smtp = await startSmtpServer(t);
  const errors: Error[] = [];
  const mailer = createSmtpMailer(smtp.url, MAIL_FROM, (error) => errors.push(error));

  for (const to of HOSTILE) {
    assert.equal(await mailer.send(render(to, content)), false, JSON.stringify(to));
  }

  assert.deepEqual(smtp.received, []);
  assert.deepEqual(
    errors.map((error) => [(error as { code?: string }).code, error.message]),
    HOSTILE.map(() => ['invalid_recipient', 'the recipient is not a plain email address']),
  );
});

test('the dev outbox writes and prints nothing for such an address either', async (t) => {
  const dataDir = await makeTempDir('portcullis-outbox-recipients-');
  t.after(() => removeDir(dataDir));
  const directory = join(dataDir, 'outbox');
  const printed: string[] = [];
  const outbox = createDevOutbox(
    directory,
    (line) => printed.push(line),
    () => new Date('2026-01-05T09:00:00.000Z'),
  );

  for (const to of HOSTILE) {
    assert.equal(await outbox.send(render(to, content)), false, JSON.stringify(to));
  }

  assert.equal(existsSync(directory), false);
  assert.deepEqual(
    printed,
    HOSTILE.map(() => '\n[dev outbox] not sent: the recipient is not a plain email address\n'),
  );
});

test('a hostile address stored before these checks gets no reset link: the request is answered as usual', async (t) => {
  const smtp = await startSmtpServer(t);
  const testApp = await createTestApp(store);
  t.after(() => testApp.close());
  const errors: Error[] = [];
  testApp.deps.mailer = createSmtpMailer(smtp.url, MAIL_FROM, (error) => errors.push(error));
  const { org, admin, member } = await seedOrg(testApp.deps);
  const stored = 'victim<attacker@evil.test>';
  await store.db
    .updateTable('users')
    .set({ email: stored, email_key: emailKey(stored) })
    .where('id', '=', member.id)
    .execute();
  const forgot = (email: string) =>
    testApp.app.inject({
      method: 'POST',
      url: '/api/v1/auth/password/forgot',
      payload: { org: org.slug, email },
    });

  assert.equal((await forgot(stored)).statusCode, 202);
  // The answer comes before the lookup: wait for the mailer's report.
  for (const deadline = Date.now() + 5000; errors.length === 0;) {
    assert.ok(Date.now() < deadline, 'the mailer reported nothing in 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // The reset of another account, asked for afterwards, arrives: the first was not just late.
  assert.equal((await forgot(admin.email)).statusCode, 202);
  await waitForMail(smtp, admin.email, 'reset your password');

  assert.deepEqual(
    smtp.received.map((mail) => mail.envelope.to),
    [[admin.email]],
  );
  assert.deepEqual(
    errors.map((error) => (error as { code?: string }).code),
    ['invalid_recipient'],
  );
});

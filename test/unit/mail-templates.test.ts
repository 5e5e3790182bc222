import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RECOVERY_CODES_LOW,
  codeMessage,
  methodDisabledMessage,
  methodEnabledMessage,
  mfaResetMessage,
  passwordChangedMessage,
  recoveryCodeUsedMessage,
  render,
  type CodePurpose,
  type Content,
} from '../../src/mail/templates.ts';

const LOW_CODES_WARNING =
  'You are running out of recovery codes: generate a new set in User Settings → Security.';

test('a code message names the org in its subject, keeps the code out of it, and gives the code and its validity in its body', () => {
  const content = codeMessage('Acme Corp', '012345', 'org_policy', 5);

  assert.equal(content.subject, 'Acme Corp: your verification code');
  assert.deepEqual(content.lines, [
    'Your Acme Corp verification code is 012345. Use it to confirm weakening the multi-factor authentication policy of your organization.',
    'It is valid for 5 minutes and works once.',
    'If you did not ask for it, someone may know your password: change it and tell your admin.',
  ]);
});

test('a code message keeps the leading zeros of the code', () => {
  const content = codeMessage('Acme Corp', '000042', 'login', 5);

  assert.equal(content.subject, 'Acme Corp: your verification code');
  assert.equal(
    content.lines[0],
    'Your Acme Corp verification code is 000042. Use it to finish signing in.',
  );
});

test('a code message says what the code is for, differently for each purpose', () => {
  const purposes: CodePurpose[] = ['login', 'step_up', 'enroll_email', 'org_policy'];

  const firstLines = purposes.map((purpose) => codeMessage('Acme', '123456', purpose, 5).lines[0]);

  assert.deepEqual(firstLines, [
    'Your Acme verification code is 123456. Use it to finish signing in.',
    'Your Acme verification code is 123456. Use it to confirm a sensitive change to your account.',
    'Your Acme verification code is 123456. Use it to turn on email verification.',
    'Your Acme verification code is 123456. Use it to confirm weakening the multi-factor authentication policy of your organization.',
  ]);
});

test('render makes plain text and HTML of the same lines, addressed and titled as given', () => {
  const content: Content = { subject: 'Acme: hello', lines: ['First line.', 'Second line.'] };

  const message = render('ada@acme.test', content);

  assert.deepEqual(message, {
    to: 'ada@acme.test',
    subject: 'Acme: hello',
    text: 'First line.\n\nSecond line.\n\n— Portcullis\n',
    html:
      '<!doctype html><html><body style="font-family:sans-serif">' +
      '<p>First line.</p><p>Second line.</p>' +
      '<p style="color:#666">Portcullis</p></body></html>',
  });
});

test('render escapes markup in the HTML part and leaves the text part as written', () => {
  const line = `Org <script>alert("x")</script> & 'co'`;

  const message = render('ada@acme.test', { subject: 'Hi', lines: [line] });

  assert.ok(
    message.html.includes(
      '<p>Org &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;</p>',
    ),
  );
  assert.ok(!message.html.includes('<script>'));
  assert.equal(message.text, `${line}\n\n— Portcullis\n`);
});

test('an org named with a <script> tag never reaches the HTML of any message unescaped', () => {
  const orgName = '<script>alert(1)</script> Inc';
  const contents = [
    codeMessage(orgName, '123456', 'org_policy', 5),
    methodEnabledMessage(orgName, 'totp'),
    methodDisabledMessage(orgName, 'email'),
    mfaResetMessage(orgName),
    passwordChangedMessage(orgName),
    recoveryCodeUsedMessage(orgName, 1),
  ];

  for (const content of contents) {
    const message = render('ada@acme.test', content);
    assert.ok(!message.html.includes('<script'), content.subject);
    // The subject is a header, not HTML: it carries the name as the admin typed it.
    assert.ok(message.subject.startsWith(`${orgName}: `), content.subject);
  }
});

test('the low-codes threshold is 2', () => {
  assert.equal(RECOVERY_CODES_LOW, 2);
});

test('a recovery code message says how many codes remain, and warns at 2 left', () => {
  const content = recoveryCodeUsedMessage('Acme Corp', 2);

  assert.equal(content.subject, 'Acme Corp: a recovery code was used');
  assert.deepEqual(content.lines, [
    'A recovery code was used to verify your account. 2 of 10 remain.',
    LOW_CODES_WARNING,
    'If this was not you, contact your admin at once.',
  ]);
});

test('a recovery code message warns when none are left', () => {
  const content = recoveryCodeUsedMessage('Acme Corp', 0);

  assert.deepEqual(content.lines, [
    'A recovery code was used to verify your account. 0 of 10 remain.',
    LOW_CODES_WARNING,
    'If this was not you, contact your admin at once.',
  ]);
});

test('a recovery code message does not warn with 3 left', () => {
  const content = recoveryCodeUsedMessage('Acme Corp', 3);

  assert.deepEqual(content.lines, [
    'A recovery code was used to verify your account. 3 of 10 remain.',
    'If this was not you, contact your admin at once.',
  ]);
});

test('method, reset and password notices name the org and the method in their subjects', () => {
  assert.equal(
    methodEnabledMessage('Acme', 'totp').subject,
    'Acme: Authenticator App verification turned on',
  );
  assert.equal(
    methodDisabledMessage('Acme', 'email').subject,
    'Acme: Email verification turned off',
  );
  assert.equal(mfaResetMessage('Acme').subject, 'Acme: your multi-factor authentication was reset');
  assert.equal(passwordChangedMessage('Acme').subject, 'Acme: your password was changed');
});

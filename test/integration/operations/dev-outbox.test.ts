import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as OTPAuth from 'otpauth';
import { createDevOutbox } from '../../../src/mail/mailer.ts';
import {
  getWithSession,
  makeTempDir,
  postJson,
  removeDir,
  ServerProcess,
  sessionCookieFrom,
} from '../../helpers/process.ts';

/*
 * Without SMTP_URL, mail goes to the dev outbox: printed on the console and written under the data
 * dir, so that `npm start` works with no mail server at all.
 */

test('the dev outbox writes each message to a private file and prints it', async (t) => {
  const dataDir = await makeTempDir('portcullis-outbox-unit-');
  t.after(() => removeDir(dataDir));
  const directory = join(dataDir, 'outbox');
  const printed: string[] = [];
  const now = new Date('2026-01-05T09:00:00.123Z');
  const outbox = createDevOutbox(
    directory,
    (line) => printed.push(line),
    () => now,
  );

  const sent = await outbox.send({
    to: 'ada@acme.test',
    subject: 'Acme: your verification code 012345',
    text: 'Your verification code is 012345.\n\n— Portcullis\n',
    html: '<p>Your verification code is 012345.</p>',
  });

  assert.equal(sent, true);
  const file = join(directory, '2026-01-05T09-00-00-123Z-1.txt');
  assert.deepEqual(await readdir(directory), ['2026-01-05T09-00-00-123Z-1.txt']);
  const body =
    'To: ada@acme.test\nSubject: Acme: your verification code 012345\n\n' +
    'Your verification code is 012345.\n\n— Portcullis\n\n';
  assert.equal(await readFile(file, 'utf8'), body);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await stat(directory)).mode & 0o777, 0o700);
  assert.deepEqual(printed, [`\n[dev outbox] ${file}\n${body}`]);
});

test('the dev outbox numbers messages sent in the same millisecond apart', async (t) => {
  const dataDir = await makeTempDir('portcullis-outbox-unit-');
  t.after(() => removeDir(dataDir));
  const directory = join(dataDir, 'outbox');
  const now = new Date('2026-01-05T09:00:00.000Z');
  const outbox = createDevOutbox(
    directory,
    () => {},
    () => now,
  );
  const message = { to: 'ada@acme.test', subject: 'Hi', text: 'one', html: '<p>one</p>' };

  await outbox.send(message);
  await outbox.send({ ...message, text: 'two' });

  assert.deepEqual((await readdir(directory)).sort(), [
    '2026-01-05T09-00-00-000Z-1.txt',
    '2026-01-05T09-00-00-000Z-2.txt',
  ]);
  assert.equal(
    await readFile(join(directory, '2026-01-05T09-00-00-000Z-2.txt'), 'utf8'),
    'To: ada@acme.test\nSubject: Hi\n\ntwo\n',
  );
});

const SETUP_LINK = /http:\/\/localhost:\d+\/setup#token=([A-Za-z0-9_-]+)\n/;
const ORG = { slug: 'acme', name: 'Acme Corp' };
const ADMIN = { email: 'ada@acme.test', name: 'Ada Admin', password: 'first run passphrase' };
const CODE_IN_OUTBOX =
  /\[dev outbox\] (\S+)\nTo: ada@acme\.test\nSubject: Acme Corp: your verification code\n\nYour Acme Corp verification code is (\d{6})\./;

function totpNow(secret: string): string {
  return new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
  }).generate();
}

async function jsonOf<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

test('without SMTP_URL, a server delivers the code to disable MFA to its console and outbox, and the code works', async () => {
  const dataDir = await makeTempDir('portcullis-dev-outbox-');
  let server: ServerProcess | undefined;
  try {
    server = await ServerProcess.start({ dataDir });
    const base = `${server.baseUrl}/api/v1`;
    const [, setupToken] = await server.waitForOutput(SETUP_LINK);
    const setup = await postJson(`${base}/setup`, { token: setupToken, org: ORG, admin: ADMIN });
    assert.equal(setup.status, 201);

    const login = await postJson(`${base}/auth/login`, {
      org: ORG.slug,
      email: ADMIN.email,
      password: ADMIN.password,
    });
    assert.equal(login.status, 200);
    const signedIn = sessionCookieFrom(login);
    assert.ok(signedIn);

    // Turning MFA on sends the acting admin, who has no factor yet, to enrollment.
    const enable = await fetch(`${base}/org/mfa/policy`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', cookie: `portcullis_session=${signedIn}` },
      body: JSON.stringify({ policy: 'enabled', sessions: 'keep' }),
    });
    assert.equal(enable.status, 200);
    assert.deepEqual(await enable.json(), {
      policy: 'enabled',
      session: { status: 'enrollment_required' },
    });
    const enrolling = sessionCookieFrom(enable);
    assert.ok(enrolling);
    const setupTotp = await postJson(`${base}/me/mfa/totp/setup`, {}, enrolling);
    assert.equal(setupTotp.status, 200);
    const { secret } = await jsonOf<{ secret: string }>(setupTotp);
    const confirmTotp = await postJson(
      `${base}/me/mfa/totp/confirm`,
      { code: totpNow(secret) },
      enrolling,
    );
    assert.equal(confirmTotp.status, 200);
    const admin = sessionCookieFrom(confirmTotp) ?? enrolling;

    const weaken = await postJson(`${base}/org/mfa/policy/weaken`, { policy: 'disabled' }, admin);
    assert.equal(weaken.status, 202);
    const { request_id: requestId } = await jsonOf<{ request_id: string }>(weaken);

    const [, file, code] = await server.waitForOutput(CODE_IN_OUTBOX, 10_000);
    assert.ok(file && code);
    assert.equal(file.startsWith(join(dataDir, 'outbox') + '/'), true);
    const written = await readFile(file, 'utf8');
    assert.ok(
      written.startsWith('To: ada@acme.test\nSubject: Acme Corp: your verification code\n\n'),
    );
    assert.ok(written.includes(`Your Acme Corp verification code is ${code}.`));
    assert.equal((await stat(file)).mode & 0o777, 0o600);

    const confirm = await postJson(
      `${base}/org/mfa/policy/weaken/confirm`,
      { request_id: requestId, code },
      admin,
    );
    assert.equal(confirm.status, 200);
    assert.deepEqual(await confirm.json(), { policy: 'disabled' });
    const org = await getWithSession(`${base}/org/mfa`, admin);
    assert.equal((await jsonOf<{ policy: string }>(org)).policy, 'disabled');

    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
    assert.equal(server.stderr, '');
  } finally {
    server?.kill();
    await server?.ended();
    await removeDir(dataDir);
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Authenticator } from '../helpers/authenticator.ts';
import {
  RecoveryCodes,
  recoveryVerification,
  codeMailCount,
  currentTotpCode,
  errorOf,
  meOf,
  nextEmailedCode,
  signedIn,
} from './attack-helpers.ts';
import { Service, type Client } from './harness.ts';

/*
 * Code shape: whatever is sent where a code is expected (TOTP, emailed or recovery code; to sign
 * in, to confirm a factor, to step up, to confirm a policy weakening) is either a code or refused
 * with a 4xx and a stable error code, never a 5xx and never a success. Most shapes are built on
 * the right code of the moment (the right digits in another script, padded, truncated, as a
 * number): each batch ends by sending that right code, which must then succeed, proving that none
 * of the shapes before it was taken for it, or spent it.
 *
 * Shapes that are strings reach the code check and count as wrong codes: 5 lock the user, and 5
 * spend an emailed code. So shapes go in batches of 3, each closed by a success that resets the
 * count, on accounts of their own.
 */

type Expectation = 'code' | 'schema' | 'too_large';
type Shape = { name: string; value: unknown; expect: Expectation };

const ANSWER: Record<Expectation, string> = {
  code: '401 invalid_code',
  schema: '400 invalid_request',
  too_large: '413 payload_too_large',
};

const ARABIC_INDIC = '٠١٢٣٤٥٦٧٨٩';

function arabicIndic(code: string): string {
  return code.replace(/[0-9]/g, (digit) => ARABIC_INDIC[Number(digit)]!);
}

/** Every printable ASCII character as its full-width form (U+FF01 to U+FF5E). */
function fullWidth(code: string): string {
  return code.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}

/** A code of the same kind that is certainly wrong. */
function wrongCode(right: string): string {
  if (/^[0-9]{6}$/.test(right))
    return String((Number(right) + 500_000) % 1_000_000).padStart(6, '0');
  return `${right[0] === 'a' ? 'b' : 'a'}${right.slice(1)}`;
}

/** Strings that pass the schema and reach the code check: each must be a wrong code. */
function stringShapes(right: string): Shape[] {
  const shapes: Omit<Shape, 'expect'>[] = [
    { name: 'all zeros', value: '000000' },
    { name: 'an empty string', value: '' },
    { name: 'the right code less its last character', value: right.slice(0, -1) },
    { name: 'the right code and one more digit', value: `${right}7` },
    { name: 'the right code in Arabic-Indic digits', value: arabicIndic(right) },
    { name: 'the right code in full-width characters', value: fullWidth(right) },
    { name: 'the right code between zero-width spaces', value: `\u200b${right}\u200b` },
    {
      name: 'a wrong code padded with spaces, tabs and newlines',
      value: ` \t${wrongCode(right)}\n `,
    },
    { name: 'sixty-four digits', value: '1'.repeat(64) },
  ];
  return shapes.map((shape) => ({ ...shape, expect: 'code' }));
}

/** Everything the schema refuses before any code is looked at. */
function schemaShapes(right: string): Shape[] {
  const digits = Number(right);
  return [
    { name: 'null', value: null, expect: 'schema' },
    {
      name: 'the right code as a number',
      value: Number.isNaN(digits) ? 123456 : digits,
      expect: 'schema',
    },
    { name: 'zero', value: 0, expect: 'schema' },
    { name: 'the right code in an array', value: [right], expect: 'schema' },
    { name: 'the right code in an object', value: { code: right }, expect: 'schema' },
    { name: 'true', value: true, expect: 'schema' },
    { name: 'false', value: false, expect: 'schema' },
    { name: 'no code at all', value: undefined, expect: 'schema' },
    { name: 'sixty-five characters', value: '1'.repeat(65), expect: 'schema' },
    { name: 'ten thousand characters', value: '1'.repeat(10_000), expect: 'schema' },
    { name: 'the right code and a NUL byte', value: `${right}\u0000`, expect: 'schema' },
    { name: 'a NUL byte alone', value: '\u0000', expect: 'schema' },
    { name: 'twenty thousand characters', value: '1'.repeat(20_000), expect: 'too_large' },
  ];
}

const BATCHES = 3;

/**
 * A recovery code with a digit in it. Recovery codes are base32 (a-z, 2-7), and one in about 28
 * has no digit: its Unicode-digit shapes would then be the right code itself.
 */
function recoveryCodeWithDigit(codes: RecoveryCodes): string {
  return codes.nextWhere((code) => /[0-9]/.test(code));
}

/** Batch i of the shapes built on `right`: the schema shapes go with the first. */
function batch(i: number, right: string): Shape[] {
  const strings = stringShapes(right);
  const size = Math.ceil(strings.length / BATCHES);
  return [...(i === 0 ? schemaShapes(right) : []), ...strings.slice(i * size, (i + 1) * size)];
}

/** Sends each shape and asserts, all at once, that every one got the refusal its shape calls for. */
async function expectRefused(
  label: string,
  shapes: Shape[],
  send: (code: unknown) => Promise<Response>,
): Promise<number> {
  const answers: string[] = [];
  const expected: string[] = [];
  for (const shape of shapes) {
    const { status, error } = await errorOf(await send(shape.value));
    answers.push(`${label}, ${shape.name} → ${status} ${error}`);
    expected.push(`${label}, ${shape.name} → ${ANSWER[shape.expect]}`);
  }
  assert.deepEqual(answers, expected);
  return shapes.length;
}

test('code shapes', async (t) => {
  const service = await Service.start(t);
  const admin = await service.admin();
  await service.setPolicy(admin, 'enabled');
  const adminCodes = new RecoveryCodes((await admin.enrollTotp()).recoveryCodes);
  let tried = 0;

  /** Pools of accounts: a batch per account keeps every count of wrong codes under its limit. */
  type TotpUser = {
    account: { email: string; password: string };
    authenticator: Authenticator;
    codes: RecoveryCodes;
  };
  const totpUsers: TotpUser[] = [];
  for (let i = 0; i < BATCHES; i += 1) {
    const account = await service.createUser(admin);
    const full = await signedIn(service, account, 'authenticated');
    const enrolled = await full.enrollTotp();
    totpUsers.push({
      account,
      authenticator: enrolled.authenticator,
      codes: new RecoveryCodes(enrolled.recoveryCodes),
    });
  }
  const fullSessions: Client[] = [];

  const stillPending = async (client: Client) => {
    assert.equal((await meOf(client)).session?.status, 'mfa_required');
  };
  const verify = (client: Client, method: string) => (code: unknown) =>
    client.post('/auth/mfa/verify', { method, code });
  const stepUp = (client: Client, method: string) => (code: unknown) =>
    client.post('/me/recovery-codes', { verification: { method, code } });

  await t.test('no shape of a TOTP code signs in; the right code then does', async () => {
    for (const [i, user] of totpUsers.entries()) {
      const pending = await signedIn(service, user.account, 'mfa_required');
      const right = await user.authenticator.nextCode();
      service.secrets.add(right);
      tried += await expectRefused('sign-in, totp', batch(i, right), verify(pending, 'totp'));
      await stillPending(pending);
      assert.equal((await verify(pending, 'totp')(right)).status, 200);
      fullSessions.push(pending);
    }
  });

  await t.test('no shape of a recovery code signs in; the right code then does', async () => {
    for (const [i, user] of totpUsers.entries()) {
      const pending = await signedIn(service, user.account, 'mfa_required');
      const right = recoveryCodeWithDigit(user.codes);
      tried += await expectRefused(
        'sign-in, recovery',
        batch(i, right),
        verify(pending, 'recovery_code'),
      );
      await stillPending(pending);
      assert.equal((await verify(pending, 'recovery_code')(right)).status, 200);
    }
  });

  /** Users who enroll the email method through the shapes, then sign in and step up with it. */
  const emailUsers: { account: { email: string; password: string }; full: Client }[] = [];

  await t.test(
    'no shape of an emailed code confirms the email method; the right code then does',
    async () => {
      for (let i = 0; i < BATCHES; i += 1) {
        const account = await service.createUser(admin);
        const full = await signedIn(service, account, 'authenticated');
        const seen = codeMailCount(service, account.email);
        assert.equal((await full.post('/me/mfa/email/setup', {})).status, 202);
        const right = await nextEmailedCode(service, account.email, seen);
        const confirm = (code: unknown) => full.post('/me/mfa/email/confirm', { code });
        tried += await expectRefused('email confirm', batch(i, right), confirm);
        assert.deepEqual((await meOf(full)).mfa?.methods, [], 'no method was turned on');
        assert.equal((await confirm(right)).status, 200);
        emailUsers.push({ account, full });
      }
    },
  );

  await t.test('no shape of an emailed code signs in; the right code then does', async () => {
    for (const [i, user] of emailUsers.entries()) {
      const pending = await signedIn(service, user.account, 'mfa_required');
      const seen = codeMailCount(service, user.account.email);
      assert.equal((await pending.post('/auth/verification/email')).status, 202);
      const right = await nextEmailedCode(service, user.account.email, seen);
      tried += await expectRefused('sign-in, email', batch(i, right), verify(pending, 'email'));
      await stillPending(pending);
      assert.equal((await verify(pending, 'email')(right)).status, 200);
    }
  });

  await t.test('no shape of an emailed code steps up; the right code then does', async () => {
    for (const [i, user] of emailUsers.entries()) {
      const seen = codeMailCount(service, user.account.email);
      assert.equal((await user.full.post('/auth/verification/email')).status, 202);
      const right = await nextEmailedCode(service, user.account.email, seen);
      tried += await expectRefused('step-up, email', batch(i, right), stepUp(user.full, 'email'));
      assert.equal((await stepUp(user.full, 'email')(right)).status, 200);
    }
  });

  await t.test(
    'no shape of a TOTP code confirms a new authenticator; the right code then does',
    async () => {
      const account = await service.createUser(admin);
      const full = await signedIn(service, account, 'authenticated');
      const setup = await full.post('/me/mfa/totp/setup', {});
      assert.equal(setup.status, 200);
      const { secret } = (await setup.json()) as { secret: string };
      service.secrets.add(secret);
      const confirm = (code: unknown) => full.post('/me/mfa/totp/confirm', { code });
      for (let i = 0; i < BATCHES; i += 1) {
        const right = currentTotpCode(secret);
        service.secrets.add(right);
        tried += await expectRefused('totp confirm', batch(i, right), confirm);
      }
      assert.deepEqual((await meOf(full)).mfa?.methods, [], 'no method was turned on');
      const right = currentTotpCode(secret);
      service.secrets.add(right);
      assert.equal((await confirm(right)).status, 200);
    },
  );

  /** A step-up that succeeds makes a new set of recovery codes: the user's next ones. */
  const takeNewSet = async (response: Response, user: TotpUser) => {
    assert.equal(response.status, 200, await response.clone().text());
    const { recovery_codes: codes } = (await response.json()) as { recovery_codes: string[] };
    for (const code of codes) service.secrets.add(code);
    user.codes = new RecoveryCodes(codes);
  };

  await t.test('no shape of a TOTP code steps up; the right code then does', async () => {
    for (const [i, user] of totpUsers.entries()) {
      const full = fullSessions[i]!;
      // The third step of this authenticator: this may wait for the clock.
      const right = await user.authenticator.nextCode();
      service.secrets.add(right);
      tried += await expectRefused('step-up, totp', batch(i, right), stepUp(full, 'totp'));
      await takeNewSet(await stepUp(full, 'totp')(right), user);
    }
  });

  await t.test('no shape of a recovery code steps up; the right code then does', async () => {
    for (const [i, user] of totpUsers.entries()) {
      const full = fullSessions[i]!;
      const right = recoveryCodeWithDigit(user.codes);
      const send = stepUp(full, 'recovery_code');
      tried += await expectRefused('step-up, recovery', batch(i, right), send);
      await takeNewSet(await send(right), user);
    }
  });

  await t.test(
    'no shape of a policy code confirms a weakening; the right code then does',
    async () => {
      const policy = async () =>
        ((await (await admin.get('/org/mfa')).json()) as { policy: string }).policy;
      let last: { client: Client; requestId: string; code: string } | undefined;
      for (let i = 0; i < BATCHES; i += 1) {
        const account = await service.createUser(admin, {
          role: 'admin',
          verification: recoveryVerification(adminCodes),
        });
        const client = await signedIn(service, account, 'authenticated');
        const seen = codeMailCount(service, account.email);
        const weaken = await client.post('/org/mfa/policy/weaken', { policy: 'disabled' });
        assert.equal(weaken.status, 202, await weaken.clone().text());
        const { request_id: requestId } = (await weaken.json()) as { request_id: string };
        const right = await nextEmailedCode(service, account.email, seen);
        const confirm = (code: unknown) =>
          client.post('/org/mfa/policy/weaken/confirm', { request_id: requestId, code });
        tried += await expectRefused('weaken confirm', batch(i, right), confirm);
        assert.equal(await policy(), 'enabled');
        last = { client, requestId, code: right };
      }
      const confirmed = await last!.client.post('/org/mfa/policy/weaken/confirm', {
        request_id: last!.requestId,
        code: last!.code,
      });
      assert.equal(confirmed.status, 200, await confirmed.clone().text());
      assert.equal(await policy(), 'disabled');
      t.diagnostic(`${tried} shaped codes refused`);
    },
  );
});

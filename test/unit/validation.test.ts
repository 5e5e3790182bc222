import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import addressparser from 'nodemailer/lib/addressparser';
import {
  emailKey,
  parseEmail,
  parseName,
  parseNewPassword,
  parseSlug,
} from '../../src/core/validation.ts';

test('a slug is lowercased and trimmed', () => {
  assert.deepEqual(parseSlug('  Acme-Corp '), { ok: true, value: 'acme-corp' });
});

test('slugs with bad characters, edge hyphens or bad lengths are refused', () => {
  for (const bad of ['a', '-acme', 'acme-', 'ac me', 'acmé', 'a_b', 'x'.repeat(41), '']) {
    assert.deepEqual(parseSlug(bad), { ok: false, error: 'invalid_slug' }, bad);
  }
  assert.equal(parseSlug('x'.repeat(40)).ok, true);
});

test('emails keep their case but share one lowercase key; surrounding spaces are trimmed', () => {
  assert.deepEqual(parseEmail(' Ann@Acme.Test '), { ok: true, value: 'Ann@Acme.Test' });
  assert.deepEqual(parseEmail('\tann@acme.test\n'), { ok: true, value: 'ann@acme.test' });
  assert.equal(emailKey('Ann@Acme.Test'), emailKey('ann@acme.test'));
});

test('a bare mailbox is accepted as it is', () => {
  const longest = `${'l'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(56)}.test`;
  assert.equal(longest.length, 254);
  for (const good of [
    'ann@acme.test',
    'Ann.Lee+mfa@mail.Acme-Corp.test',
    "o'brien@acme.test",
    'a_b-c.d@x1.example',
    '1@2a.test',
    'ann@xn--bcher-kva.test',
    longest,
  ]) {
    assert.deepEqual(parseEmail(good), { ok: true, value: good }, good);
  }
});

test('malformed or overlong emails are refused', () => {
  for (const bad of [
    '',
    'ann',
    'ann@',
    '@acme.test',
    'a@b@acme.test',
    'ann@acme',
    `${'l'.repeat(65)}@acme.test`,
    `${'l'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(57)}.test`,
    `ann@${'d'.repeat(64)}.test`,
  ]) {
    assert.deepEqual(parseEmail(bad), { ok: false, error: 'invalid_email' }, JSON.stringify(bad));
  }
});

test('anything a mail library could read as a name, a second address or a header is refused', () => {
  for (const bad of [
    'victim<attacker@evil.test>',
    '<attacker@evil.test>',
    'Name <a@b.test>',
    'a@b.test>',
    'victim.acme.test,attacker2@evil.test',
    'a@b.test,c@d.test',
    'a@b.test;c@d.test',
    'a@b.test (comment)',
    'a(comment)@b.test',
    '"a b"@x.test',
    '"ab"@x.test',
    'a@b.test\r\nBcc: c@d.test',
    'a@b.test\nc@d.test',
    'a b@x.test',
    'a\tb@x.test',
    'a\u0000b@x.test',
    'a\u007f@x.test',
    'group: a@b.test;',
    'a@[127.0.0.1]',
    // Routing syntaxes that mail servers still honour for their own domains (Postfix rewrites
    // user%domain and domain!user by default): another way of naming a second address.
    'attacker%evil.test@acme.test',
    'evil.test!attacker@acme.test',
  ]) {
    assert.deepEqual(parseEmail(bad), { ok: false, error: 'invalid_email' }, JSON.stringify(bad));
  }
});

test('a local part or domain outside ASCII letters, digits and the usual signs is refused', () => {
  for (const bad of [
    // Lookalikes of ada@acme.test: Cyrillic "а" (U+0430) in the local part, in the domain.
    '\u0430da@acme.test',
    'ada@\u0430cme.test',
    // Fullwidth "ａ", a zero-width space, a non-breaking space inside.
    '\uff41da@acme.test',
    'ada\u200b@acme.test',
    'ada\u00a0x@acme.test',
    'j\u00f6rg@acme.test',
    'ann@b\u00fccher.test',
  ]) {
    assert.deepEqual(parseEmail(bad), { ok: false, error: 'invalid_email' }, JSON.stringify(bad));
  }
});

test('dots and hyphens only between characters; a domain of labels with a non-numeric end', () => {
  for (const bad of [
    '.ann@acme.test',
    'ann.@acme.test',
    'a..b@acme.test',
    'ann@.acme.test',
    'ann@acme..test',
    'ann@acme.test.',
    'ann@-acme.test',
    'ann@acme-.test',
    'ann@acme_corp.test',
    'ann@1.2.3.4',
  ]) {
    assert.deepEqual(parseEmail(bad), { ok: false, error: 'invalid_email' }, JSON.stringify(bad));
  }
});

test('whatever parseEmail accepts, the mail library reads as that one address and nothing else', () => {
  // Mostly characters an address may hold, now and then one that means something to a parser.
  const text = (usual: string) =>
    fc.string({
      unit: fc.oneof(
        { arbitrary: fc.constantFrom(...usual), weight: 12 },
        { arbitrary: fc.constantFrom(...'<>,;:"()[]\\ \t\r\n%!@\u0430\u00e9'), weight: 1 },
      ),
      maxLength: 16,
    });
  let accepted = 0;
  fc.assert(
    fc.property(text("aZ09.+_-'=?{|}~/#$&*^`"), text('az09..-'), (local, domain) => {
      const parsed = parseEmail(`${local}@${domain}`);
      if (!parsed.ok) return;
      accepted += 1;
      assert.deepEqual(addressparser(parsed.value), [{ address: parsed.value, name: '' }]);
    }),
    { numRuns: 10_000 },
  );
  assert.ok(accepted > 50, `only ${accepted} generated addresses were accepted`);
});

test('a name is trimmed and must not be empty', () => {
  assert.deepEqual(parseName('  Ann  '), { ok: true, value: 'Ann' });
  assert.deepEqual(parseName('   '), { ok: false, error: 'invalid_name' });
});

test('passwords need 8 characters counted in code points, not UTF-16 units', () => {
  assert.deepEqual(parseNewPassword('1234567'), { ok: false, error: 'weak_password' });
  assert.equal(parseNewPassword('12345678').ok, true);
  // Seven emoji are 14 UTF-16 units but still only 7 characters.
  assert.deepEqual(parseNewPassword('😀'.repeat(7)), { ok: false, error: 'weak_password' });
  assert.equal(parseNewPassword('😀'.repeat(8)).ok, true);
});

test('passwords of 64 characters and any Unicode are accepted; over 256 is refused', () => {
  assert.equal(parseNewPassword('ü'.repeat(64)).ok, true);
  assert.equal(parseNewPassword('密码'.repeat(128)).ok, true);
  assert.deepEqual(parseNewPassword('x'.repeat(257)), { ok: false, error: 'password_too_long' });
});

test('passwords are NFKC-normalized so composed and decomposed forms match', () => {
  const composed = parseNewPassword('caf\u00e9 au lait');
  const decomposed = parseNewPassword('cafe\u0301 au lait');
  assert.ok(composed.ok && decomposed.ok);
  assert.equal(composed.value, decomposed.value);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RETURN_PATH_MAX_LENGTH, consoleReturnPath } from '../../src/core/return-path.ts';
import { HOSTILE_RETURN_PATHS } from '../helpers/hostile-return-paths.ts';

/** Pages a browser could be on when it resolves a Location header. */
const PAGES = [
  'https://id.example.com/admin/users?page=2',
  'http://localhost:3000/api/v1/auth/sso/callback?code=x&state=y',
  'https://portal.example:8443/deep/nested/path/',
];

/** What a returned path must be, wherever a browser resolves it. */
function assertStaysOnTheConsole(path: string) {
  assert.match(path, /^\/(?!\/)/);
  assert.doesNotMatch(path, /[\\\u0000-\u001f\u007f#]/);
  assert.doesNotMatch(path.split('?')[0] ?? '', /%/);
  for (const page of PAGES) {
    const resolved = new URL(path, page);
    assert.equal(resolved.origin, new URL(page).origin, `${path} leaves ${page}`);
    assert.equal(`${resolved.pathname}${resolved.search}`, path);
  }
  assert.equal(consoleReturnPath(path), path);
}

test('pages of the console are kept as they are', () => {
  for (const path of [
    '/',
    '/sign-in',
    '/admin/users',
    '/settings/security',
    '/admin/users?page=2&mfa=none',
    '/admin/audit?type=sso.login_succeeded',
    '/admin/users?q=%2F%2Fevil.test',
    '/a/b/',
    '/v1.2/x_y~z',
  ]) {
    assert.equal(consoleReturnPath(path), path);
    assertStaysOnTheConsole(path);
  }
});

test('every spelling that a parser reads as another site, or as another path, is refused', () => {
  for (const raw of [
    ...HOSTILE_RETURN_PATHS,
    '\u0000//evil.test',
    'http:/evil.test',
    '//user:pass@evil.test',
    'data:text/html,x',
    '/admin/./users',
    '/admin/../users',
    '/admin/users?',
    '/a b',
    '/caf\u00e9',
    '/admin/users?q=caf\u00e9',
    '/admin/users?q="x"',
    'admin/users',
    '.',
    '',
  ]) {
    assert.equal(consoleReturnPath(raw), null, JSON.stringify(raw));
  }
  assert.equal(consoleReturnPath(undefined), null);
  assert.equal(consoleReturnPath(null), null);
});

test('the longest allowed path is kept, one more character is refused', () => {
  const longest = `/${'a'.repeat(RETURN_PATH_MAX_LENGTH - 1)}`;
  assert.equal(consoleReturnPath(longest), longest);
  assert.equal(consoleReturnPath(`${longest}a`), null);
});

/** Pieces that parsers disagree on, glued in any order: the attacker's alphabet. */
const hostilePiece = fc.constantFrom(
  '/',
  '//',
  '\\',
  '.',
  '..',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%5c',
  '%09',
  '%00',
  '\t',
  '\n',
  '\r',
  ' ',
  '\u0000',
  '\u3002',
  '\uff0f',
  'evil.test',
  'admin',
  'https:',
  'javascript:',
  '?',
  '#',
  '@',
  ':',
  '&',
  '=',
);

test('whatever the text, anything kept stays on the console at exactly that path', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.array(hostilePiece, { maxLength: 12 }).map((pieces) => pieces.join('')),
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.string({ maxLength: 40 }).map((text) => `/${text}`),
      ),
      (raw) => {
        const kept = consoleReturnPath(raw);
        if (kept === null) return;
        assert.equal(kept, raw);
        assertStaysOnTheConsole(kept);
      },
    ),
    { numRuns: 5000 },
  );
});

test('any path of plain segments, with or without a query, is kept', () => {
  const segment = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,11}$/);
  const query = fc.option(fc.stringMatching(/^[a-z]{1,6}=[a-z0-9]{0,8}$/), { nil: undefined });
  fc.assert(
    fc.property(fc.array(segment, { maxLength: 5 }), query, (segments, search) => {
      fc.pre(segments[0] !== 'oidc');
      const path = `/${segments.join('/')}${search ? `?${search}` : ''}`;
      assert.equal(consoleReturnPath(path), path);
    }),
    { numRuns: 1000 },
  );
});

test('under an issuer, only the sign-in of an app is a return path, never an authorization request', () => {
  assert.equal(
    consoleReturnPath('/oidc/acme/interaction/Xk3_a-9'),
    '/oidc/acme/interaction/Xk3_a-9',
  );
  for (const raw of [
    '/oidc/evil/auth?client_id=e&redirect_uri=https://evil.test/&prompt=none',
    '/oidc/acme/auth',
    '/oidc/acme/interaction/Xk3/login',
    '/oidc/acme/interaction/Xk3?x=1',
    '/oidc/acme/session/end',
  ]) {
    assert.equal(consoleReturnPath(raw), null, raw);
  }
});

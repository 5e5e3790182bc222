import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { loadMasterKey } from '../../src/master-key.ts';

test('with the embedded database a key is generated once into the data dir, mode 0600', (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'portcullis-key-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = { encryptionKey: null, databaseUrl: null, dataDir };
  const first = loadMasterKey(config);
  assert.equal(first.length, 32);
  const path = join(dataDir, 'encryption.key');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(readFileSync(path, 'utf8').trim(), first.toString('base64'));
  assert.deepEqual(loadMasterKey(config), first);
});

test('with DATABASE_URL and no key, start-up stops naming the variable', () => {
  assert.throws(
    () =>
      loadMasterKey({
        encryptionKey: null,
        databaseUrl: 'postgres://h/db',
        dataDir: '/nonexistent',
      }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message.startsWith('PORTCULLIS_ENCRYPTION_KEY is required'),
  );
});

test('a key from the environment wins, and must be 32 bytes of base64', () => {
  const key = Buffer.alloc(32, 7);
  const config = loadConfig({ PORTCULLIS_ENCRYPTION_KEY: key.toString('base64') });
  assert.deepEqual(loadMasterKey({ ...config, databaseUrl: 'postgres://h/db' }), key);
  assert.throws(
    () => loadConfig({ PORTCULLIS_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }),
    /PORTCULLIS_ENCRYPTION_KEY must be 32 bytes/,
  );
});

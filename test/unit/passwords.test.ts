import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPasswordHasher, owaspArgon2Parameters } from '../../src/services/password/hasher.ts';

test('passwords are hashed with argon2id at the OWASP parameters, stored in the hash', async () => {
  const hasher = await createPasswordHasher();
  const hash = await hasher.hash('correct horse battery staple');
  const { memoryCost, timeCost, parallelism } = owaspArgon2Parameters;
  assert.ok(hash.startsWith(`$argon2id$v=19$m=${memoryCost},t=${timeCost},p=${parallelism}$`));
  assert.equal(await hasher.verify(hash, 'correct horse battery staple'), true);
  assert.equal(await hasher.verify(hash, 'correct horse battery stapler'), false);
  assert.equal(hasher.needsRehash(hash), false);
});

test('a hash made with weaker parameters is due for a rehash', async () => {
  const weak = await createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  const strong = await createPasswordHasher();
  const hash = await weak.hash('correct horse battery staple');
  assert.equal(strong.needsRehash(hash), true);
  assert.equal(await strong.verify(hash, 'correct horse battery staple'), true);
});

test('a malformed stored hash fails verification instead of throwing', async () => {
  const hasher = await createPasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  assert.equal(await hasher.verify('not-a-hash', 'whatever'), false);
});

test('hashing runs off the event loop: timers keep firing during a hash', async () => {
  const hasher = await createPasswordHasher();
  let ticks = 0;
  const timer = setInterval(() => (ticks += 1), 1);
  await Promise.all(Array.from({ length: 8 }, () => hasher.hash('correct horse battery staple')));
  clearInterval(timer);
  assert.ok(ticks > 5, `only ${ticks} timer ticks during 8 hashes`);
});

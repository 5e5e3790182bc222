import assert from 'node:assert/strict';
import test from 'node:test';
import { createLimiter } from '../../src/core/concurrency-limit.ts';

test('at most `max` tasks run at once, and the waiting ones start in the order they came', async () => {
  const inTurn = createLimiter(2);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const releases: (() => void)[] = [];
  const results = Array.from({ length: 5 }, (_, i) =>
    inTurn(async () => {
      running += 1;
      peak = Math.max(peak, running);
      started.push(i);
      await new Promise<void>((resolve) => releases.push(resolve));
      running -= 1;
      return i;
    }),
  );
  for (let done = 0; done < 5; done += 1) {
    await new Promise((resolve) => setImmediate(resolve));
    releases.shift()?.();
  }
  assert.deepEqual(await Promise.all(results), [0, 1, 2, 3, 4]);
  assert.equal(peak, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
});

test('a task that fails frees its slot for the next one', async () => {
  const inTurn = createLimiter(1);
  const failed = inTurn(async () => {
    throw new Error('boom');
  });
  const next = inTurn(async () => 'ran');
  await assert.rejects(failed, /boom/);
  assert.equal(await next, 'ran');
});

test('a limit below 1 is refused', () => {
  assert.throws(() => createLimiter(0), TypeError);
});

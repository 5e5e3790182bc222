import { after } from 'node:test';

/**
 * Whatever outlives a start and must be stopped: a test (`t`), or a file's shared scope. Stops
 * registered here run even when the test or hook that registered them fails.
 */
export type Scope = { after(stop: () => unknown): void };

/**
 * What the tests of a file share (servers, the browser): each start registers its stop here, and
 * one `after` hook of the file runs them all, newest first, each one even when another fails.
 */
export function fileScope(): Scope {
  const stops: (() => unknown)[] = [];
  after(async () => {
    const failures: unknown[] = [];
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'stopping the shared servers');
  });
  return { after: (stop) => void stops.push(stop) };
}

/**
 * Runs starts at once and waits for every one to settle before it throws the first failure.
 * Promise.all would throw at the first and leave the others starting unseen: a server or a
 * Chromium that came up a moment later would register its stop after the file's `after` hook had
 * run, and keep the test process alive.
 */
export async function allStarted<T extends readonly unknown[] | []>(starts: T) {
  const settled = await Promise.allSettled(starts);
  for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
  return Promise.all(starts);
}

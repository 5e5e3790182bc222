/** Runs at most `max` tasks at once; the others start in the order they came. */
export function createLimiter(max: number) {
  if (!Number.isInteger(max) || max < 1) throw new TypeError('concurrency must be an integer ≥ 1');
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running < max) running += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, so `running` only drops when none waits.
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}

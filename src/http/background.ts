import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { describeFailure } from './error-handler.ts';

declare module 'fastify' {
  interface FastifyInstance {
    backgroundTasks: BackgroundTasks;
  }
}

/**
 * Work a request starts but does not wait for (so that its answer's timing reveals nothing).
 * Failures are logged; closing the app waits for what is still running, so a SIGTERM does not cut
 * a reset email in half; tests wait with idle().
 */
export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>();
  private readonly log: FastifyBaseLogger;

  constructor(log: FastifyBaseLogger) {
    this.log = log;
  }

  run(name: string, task: () => Promise<unknown>): void {
    // Started on a later turn of the event loop, once the answer is on its way: the embedded
    // database runs on this thread, and its work must not delay the answer either.
    const started = new Promise<void>((resolve) => setImmediate(resolve));
    const promise: Promise<void> = started.then(task).then(
      () => undefined,
      (error: Error) => this.log.error({ err: describeFailure(error) }, `${name} failed`),
    );
    this.running.add(promise);
    void promise.finally(() => this.running.delete(promise));
  }

  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }
}

export function installBackgroundTasks(app: FastifyInstance): void {
  const tasks = new BackgroundTasks(app.log);
  app.decorate('backgroundTasks', tasks);
  app.addHook('onClose', () => tasks.idle());
}

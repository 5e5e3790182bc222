import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { runCommand } from './commands/run-command.ts';
import type { Config } from './config.ts';
import { PRUNE_INTERVAL_SECONDS } from './core/limits.ts';
import { buildApp } from './http/app.ts';
import { heldByLine, lockDataDir, type DataDirLock } from './owner/data-dir-lock.ts';
import { openRuntime } from './runtime.ts';
import type { ServiceDeps } from './services/deps.ts';
import { pruneExpired } from './services/pruning.ts';
import { issueSetupTokenIfEmpty } from './services/org/setup.ts';

/** Starts the server; SIGTERM and SIGINT stop taking requests, finish those in flight, then exit. */
export async function serve(config: Config): Promise<void> {
  // Before anything in the data dir is read or written: the key file and the database included.
  const lock = config.databaseUrl ? null : await holdDataDir(config.dataDir);
  const runtime = await openRuntime(config);
  const { store, deps } = runtime;
  const app = await buildApp({ store, deps, config });
  if (lock) {
    lock.acceptCommands(
      (command) => runCommand(runtime, command),
      (error) => app.log.error({ err: error }, 'a command from the control socket failed'),
    );
    // Commands in flight finish before the store closes; the data dir stays held until exit.
    app.addHook('preClose', async () => lock.stopCommands());
  }
  app.addHook('onClose', async () => store.close());
  // Before listen: Fastify refuses new hooks (the timer's onClose) once it listens.
  schedulePruning(app, deps);
  const address = await app.listen({ port: config.port, host: config.host });
  if (!existsSync(fileURLToPath(new URL('../web/dist/index.html', import.meta.url)))) {
    app.log.warn('the console is not built: run `npm run build` (npm start builds it itself)');
  }

  const setupToken = await issueSetupTokenIfEmpty(deps);
  if (setupToken) {
    const base = config.baseUrl?.origin ?? address.replace('127.0.0.1', 'localhost');
    // The token rides in the fragment, which browsers never send, so no access log can hold it.
    process.stdout.write(
      `\nPortcullis has no organization yet. Open this one-time link to create the first one:\n\n  ${base}/setup#token=${setupToken}\n\n`,
    );
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    app
      .close()
      .then(() => lock?.release())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          app.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** The embedded database has one owner: a second server on the same data dir refuses to start. */
async function holdDataDir(dataDir: string): Promise<DataDirLock> {
  const locked = await lockDataDir(dataDir, 'server');
  if (!locked.ok) throw new DataDirInUseError(heldByLine(dataDir, locked.holder));
  return locked.lock;
}

class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
}

/** Every instance prunes expired rows now and then; the deletes are safe to run concurrently. */
function schedulePruning(app: FastifyInstance, deps: ServiceDeps): void {
  const timer = setInterval(() => {
    app.backgroundTasks.run('pruning expired rows', async () => {
      const pruned = await pruneExpired(deps);
      app.log.info({ pruned }, 'expired rows pruned');
    });
  }, PRUNE_INTERVAL_SECONDS * 1000);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}

import type { Config } from '../config.ts';
import { heldByLine, lockDataDir } from '../owner/data-dir-lock.ts';
import { sendCommand } from '../owner/owner-client.ts';
import { failed, USE_PG_TOOLS, type Command, type CommandOutcome } from './command.ts';

/** The owner may end between being found and being sent the command; then look again. */
const OWNER_ATTEMPTS = 3;

/**
 * Runs a command where its effect is durable and visible at once. On PostgreSQL the CLI connects
 * itself, like any instance. On the embedded database the command runs in the process that owns
 * the data dir: a running server, over its control socket, or else this process, which holds the
 * data dir (so no server can start on it) until the command is done.
 */
export async function executeCommand(config: Config, command: Command): Promise<CommandOutcome> {
  if (command.kind === 'restore') {
    const { restoreBackup } = await import('./backup.ts');
    return restoreBackup(config, command.file);
  }
  if (config.databaseUrl && command.kind === 'backup') return failed(USE_PG_TOOLS);
  if (config.databaseUrl) return runHere(config, command);
  for (let attempt = 1; attempt <= OWNER_ATTEMPTS; attempt += 1) {
    const locked = await lockDataDir(config.dataDir, 'command');
    if (locked.ok) {
      try {
        return await runHere(config, command);
      } finally {
        await locked.lock.release();
      }
    }
    if (locked.holder.role !== 'server') {
      return failed(`${heldByLine(config.dataDir, locked.holder)}; try again when it ends`);
    }
    const sent = await sendCommand(locked.socketPath, command);
    if (sent.ok) return sent.outcome;
    if (sent.error === 'no_answer') {
      return failed(
        `the server (pid ${locked.holder.pid}) did not answer; check whether the command took effect before running it again`,
      );
    }
  }
  return failed(`the data dir ${config.dataDir} changed hands while the command looked for it`);
}

/** Opens the store in this process; loaded only then, so a command sent to a server starts fast. */
async function runHere(config: Config, command: Command): Promise<CommandOutcome> {
  const { openRuntime } = await import('../runtime.ts');
  const { runCommand } = await import('./run-command.ts');
  const { createCommandMailer } = await import('./command-mailer.ts');
  const { store, deps, masterKey } = await openRuntime(config);
  const mailer = createCommandMailer(config, deps.mailer);
  try {
    return await runCommand({ store, deps: { ...deps, mailer }, masterKey }, command);
  } finally {
    await mailer.settled();
    await store.close();
  }
}

import { chmodSync, lstatSync, mkdirSync, unlinkSync, type BigIntStats } from 'node:fs';
import type { Server } from 'node:net';
import { controlSocketPath } from './control-socket.ts';
import { createOwnerChannel, type CommandRunner, type OwnerRole } from './owner-channel.ts';
import { probeOwner, type Holder } from './owner-client.ts';

export type DataDirLock = {
  socketPath: string;
  /** Runs the commands sent over the control socket from now on (a server, once it is open). */
  acceptCommands(run: CommandRunner, onError: (error: unknown) => void): void;
  /** Refuses new commands and waits for those in flight; the data dir stays held. */
  stopCommands(): Promise<void>;
  /** Frees the data dir: only after the store is closed. Dying frees it too. */
  release(): Promise<void>;
};

export type LockResult =
  { ok: true; lock: DataDirLock } | { ok: false; holder: Holder; socketPath: string };

/** A stale socket is replaced, or a racing starter wins, in a step or two; more means a bug. */
const BIND_ATTEMPTS = 5;

/**
 * Makes this process the one owner of an embedded data dir, or says who is. The lock is a Unix
 * socket the owner listens on in the data dir: binding it fails while the file exists, and the
 * kernel stops the listener when its process dies, however it dies (`kill -9` included), so a
 * socket nobody answers on is stale and is replaced. Of two processes that replace the same
 * stale socket at once, only one binds the path again; the other then finds it answering.
 */
export async function lockDataDir(dataDir: string, role: OwnerRole): Promise<LockResult> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const socketPath = controlSocketPath(dataDir);
  for (let attempt = 1; attempt <= BIND_ATTEMPTS; attempt += 1) {
    const channel = createOwnerChannel({ pid: process.pid, role });
    if (await bind(channel.server, socketPath)) {
      // Only this user may connect: a connection here can create admins.
      chmodSync(socketPath, 0o600);
      return {
        ok: true,
        lock: {
          socketPath,
          acceptCommands: channel.acceptCommands,
          stopCommands: channel.stopCommands,
          release: async () => {
            await channel.stopCommands();
            // Closing the listener also removes the socket file.
            await new Promise<void>((resolve) => channel.server.close(() => resolve()));
          },
        },
      };
    }
    const seen = fileIdentity(socketPath);
    const probe = await probeOwner(socketPath);
    if (probe.kind === 'owner') return { ok: false, holder: probe.holder, socketPath };
    if (probe.kind === 'stale' && seen !== null) removeIfUnchanged(socketPath, seen);
  }
  throw new Error(`could not take the data dir ${dataDir}: its control socket kept changing`);
}

/** True once listening; false when the path is taken. */
function bind(server: Server, path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') resolve(false);
      else reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ path, exclusive: true });
  });
}

function fileIdentity(path: string): BigIntStats | null {
  try {
    return lstatSync(path, { bigint: true });
  } catch {
    return null;
  }
}

/**
 * Removes the stale socket seen earlier, but not a fresh one that a racing starter put in its place
 * since: the inode and its birth and change times tell them apart.
 */
function removeIfUnchanged(path: string, seen: BigIntStats) {
  const now = fileIdentity(path);
  if (
    now === null ||
    now.ino !== seen.ino ||
    now.dev !== seen.dev ||
    now.birthtimeNs !== seen.birthtimeNs ||
    now.ctimeNs !== seen.ctimeNs
  ) {
    return;
  }
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** The one line a process prints when another holds the data dir. */
export function heldByLine(dataDir: string, holder: Holder): string {
  if (holder.pid === null) {
    return `the data dir ${dataDir} is in use by another process, which does not answer on its control socket`;
  }
  const what = holder.role === 'command' ? 'a portcullis command' : 'portcullis serve';
  return `the data dir ${dataDir} is in use by process ${holder.pid} (${what})`;
}

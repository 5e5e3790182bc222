import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { commandFromJson, failed, type Command, type CommandOutcome } from '../commands/command.ts';

export type OwnerRole = 'server' | 'command';

/** What the owner of a data dir says about itself on GET /v1/owner. */
export type OwnerIdentity = { pid: number; role: OwnerRole };

export type CommandRunner = (command: Command) => Promise<CommandOutcome>;

export const OWNER_PATH = '/v1/owner';
export const COMMANDS_PATH = '/v1/commands';

/** A command is a few short fields; anything larger is not one. */
const MAX_COMMAND_BYTES = 64 * 1024;

export type OwnerChannel = {
  server: Server;
  /** Runs the commands sent from now on; those that arrived earlier waited for this. */
  acceptCommands(run: CommandRunner, onError: (error: unknown) => void): void;
  /** Refuses new commands and resolves once those in flight have finished. */
  stopCommands(): Promise<void>;
};

/**
 * The HTTP API the owner of a data dir serves on its control socket. Only the data dir's owner (by
 * file mode) can connect, so a request here is the operator's own command line.
 */
export function createOwnerChannel(identity: OwnerIdentity): OwnerChannel {
  let state: 'waiting' | 'open' | 'stopped' = 'waiting';
  let runner: { run: CommandRunner; onError: (error: unknown) => void } | undefined;
  let opened: () => void = () => {};
  const open = new Promise<void>((resolve) => (opened = resolve));
  const inFlight = new Set<Promise<unknown>>();

  async function handleCommand(request: IncomingMessage, response: ServerResponse) {
    const body = await readBody(request);
    const command = body === null ? null : commandFromJson(parseJson(body));
    if (command === null) return send(response, 400, { error: 'invalid_request' });
    if (identity.role === 'command') {
      return send(
        response,
        200,
        failed(
          `the data dir is in use by process ${identity.pid} (a portcullis command); try again when it ends`,
        ),
      );
    }
    if (state === 'waiting') await open;
    if (state === 'stopped' || !runner) {
      return send(response, 200, failed(`the server (pid ${identity.pid}) is shutting down`));
    }
    try {
      send(response, 200, await runner.run(command));
    } catch (error) {
      runner.onError(error);
      send(response, 500, { error: 'internal_error' });
    }
  }

  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === OWNER_PATH) {
      return send(response, 200, identity);
    }
    if (request.method === 'POST' && request.url === COMMANDS_PATH) {
      const handled = handleCommand(request, response).catch(() => response.destroy());
      inFlight.add(handled);
      void handled.finally(() => inFlight.delete(handled));
      return;
    }
    send(response, 404, { error: 'not_found' });
  });

  return {
    server,
    acceptCommands(run, onError) {
      if (state !== 'waiting') throw new TypeError('commands are already accepted or stopped');
      runner = { run, onError };
      state = 'open';
      opened();
    },
    async stopCommands() {
      state = 'stopped';
      opened();
      await Promise.all(inFlight);
    },
  };
}

function send(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_COMMAND_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import {
  REQUEST_BODY_DRAIN_MAX_BYTES,
  REQUEST_MAX_SECONDS,
  REQUEST_TIMEOUT_CHECK_SECONDS,
} from '../../src/core/limits.ts';
import { ServerProcess, makeTempDir, removeDir } from '../helpers/process.ts';

/*
 * A body over the limit is refused with 413 payload_too_large, and the client reads that answer:
 * the server reads the rest of the body before it closes the connection, instead of closing while
 * the client still sends (which resets the connection and loses the answer). Over a real socket,
 * since `inject` has no socket to reset.
 */

const TWO_MB = 2 * 1024 * 1024;
const TRIES = 10;

let server: ServerProcess;
let dataDir: string;

// Registered first: it runs even when the start below fails (then with no server, or no data dir).
after(async () => {
  await server?.stop();
  if (dataDir) await removeDir(dataDir);
});

before(async () => {
  dataDir = await makeTempDir('portcullis-body-limit-');
  server = await ServerProcess.start({
    dataDir,
    env: { PORTCULLIS_ENCRYPTION_KEY: randomBytes(32).toString('base64') },
  });
});

const loginUrl = () => `${server.baseUrl}/api/v1/auth/login`;

/** Status and error code of a response, or the failure fetch reported. */
async function outcome(send: () => Promise<Response>): Promise<string> {
  try {
    const response = await send();
    const body = (await response.json()) as { error?: string };
    return `${response.status} ${body.error} ${response.headers.get('connection')}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return `failed: ${cause?.code ?? String(error)}`;
  }
}

test('a 2 MB body with a Content-Length gets its 413 payload_too_large every time', async () => {
  const body = JSON.stringify({ org: 'acme', email: 'a@acme.test', password: 'x'.repeat(TWO_MB) });
  const outcomes: string[] = [];
  for (let i = 0; i < TRIES; i += 1) {
    outcomes.push(
      await outcome(() =>
        fetch(loginUrl(), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        }),
      ),
    );
  }
  assert.deepEqual(outcomes, Array(TRIES).fill('413 payload_too_large close'));
});

test('a 2 MB chunked body without a Content-Length gets its 413 payload_too_large every time', async () => {
  const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
  const outcomes: string[] = [];
  for (let i = 0; i < TRIES; i += 1) {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= TWO_MB) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    outcomes.push(
      await outcome(() =>
        fetch(loginUrl(), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          duplex: 'half',
        } as RequestInit),
      ),
    );
  }
  assert.deepEqual(outcomes, Array(TRIES).fill('413 payload_too_large close'));
});

/**
 * Writes a request to a raw socket, its body in 64 KiB pieces a millisecond apart, as a client on
 * a real network sends it; resolves with everything the server sent, or the socket's error.
 */
function rawExchange(head: string, body: Buffer): Promise<{ received: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => (received += data));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ received, error: error.code }));
    socket.on('close', () => resolve({ received }));
    socket.write(head);
    const send = (offset: number) => {
      if (socket.destroyed) return;
      if (offset >= body.length) return void socket.end();
      socket.write(body.subarray(offset, offset + 64 * 1024));
      setTimeout(() => send(offset + 64 * 1024), 1);
    };
    send(0);
  });
}

test('over a raw socket, a 2 MB body is read to its end and answered 413, then the connection closes', async () => {
  const body = Buffer.alloc(TWO_MB, 'x');
  const head = `POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  for (let i = 0; i < TRIES; i += 1) {
    const { received, error } = await rawExchange(head, body);
    assert.equal(error, undefined);
    assert.match(received, /^HTTP\/1\.1 413 /);
    assert.match(received, /\r\nconnection: close\r\n/i);
    assert.match(received, /"error":"payload_too_large"/);
  }
});

test('a body past the drain bound is not read on: the connection is closed', async () => {
  // Announces twice the bound and keeps sending: the server stops reading at the bound.
  const total = 2 * REQUEST_BODY_DRAIN_MAX_BYTES;
  const head = `POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${total}\r\n\r\n`;
  const closed = await new Promise<string>((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    let received = '';
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    socket.setEncoding('latin1');
    socket.on('data', (data: string) => (received += data));
    socket.on('error', () => {});
    socket.on('close', () => resolve(written < total ? 'closed early' : `read all: ${received}`));
    socket.write(head);
    const pump = () => {
      while (written < total && socket.write(chunk)) written += chunk.length;
      if (written < total) socket.once('drain', pump);
    };
    socket.on('connect', pump);
  });
  assert.equal(closed, 'closed early');
  const health = await fetch(`${server.baseUrl}/healthz`);
  assert.equal(health.status, 200);
});

test('a small body trickled in is cut off: 408 and a closed connection once the request has taken its limit', async () => {
  const socket = connect(server.port, '127.0.0.1');
  const started = performance.now();
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (data: string) => (received += data));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  socket.write(
    'POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
  );
  // One byte a second: never done, and never idle long enough for an idle timeout.
  const trickle = setInterval(() => socket.write(' '), 1_000);
  try {
    await closed;
  } finally {
    clearInterval(trickle);
  }
  const seconds = (performance.now() - started) / 1000;
  assert.match(received, /^HTTP\/1\.1 408 /);
  assert.ok(seconds >= REQUEST_MAX_SECONDS - 1, `cut off after ${seconds.toFixed(1)} s`);
  // The check runs every few seconds; a loaded machine may add a few more.
  assert.ok(
    seconds < REQUEST_MAX_SECONDS + REQUEST_TIMEOUT_CHECK_SECONDS + 10,
    `cut off after ${seconds.toFixed(1)} s`,
  );
});

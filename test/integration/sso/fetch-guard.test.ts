import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ProviderAddressRefused,
  checkProviderUrl,
  createGuardedFetch,
  type Resolve,
} from '../../../src/services/sso/guarded-fetch.ts';

const strict = { allowLoopback: false };
const development = { allowLoopback: true };
const PUBLIC_ADDRESS = '93.184.216.34';

/** An HTTP server on loopback that echoes what it received, and counts the connections it got. */
async function echoServer(t: TestContext) {
  let connections = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/moved') {
        response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        response.end();
        return;
      }
      const body = JSON.stringify({
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(201, { 'content-type': 'application/json', 'x-answer': 'yes' });
      response.end(body);
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

/** A resolver that answers what the test says, call after call (the last answer then stays). */
function scriptedResolver(...answers: string[][]): { resolve: Resolve; calls: () => number } {
  let calls = 0;
  return {
    resolve: async () => {
      const answer = answers[Math.min(calls, answers.length - 1)] ?? [];
      calls += 1;
      return answer;
    },
    calls: () => calls,
  };
}

const get = { method: 'GET', headers: { accept: 'application/json' } };

test('DNS rebinding: a name that resolved to a public address at save time and to 127.0.0.1 at fetch time gets no connection', async (t) => {
  const server = await echoServer(t);
  const resolver = scriptedResolver([PUBLIC_ADDRESS], ['127.0.0.1']);
  const issuer = `https://rebind.test:${server.port}`;

  // Save time: the name answers a public address, so the issuer is accepted.
  assert.equal((await checkProviderUrl(issuer, strict, resolver.resolve))?.href, `${issuer}/`);
  // Fetch time: the same name now answers loopback; the connection is refused before it is made.
  const fetch = createGuardedFetch(strict, resolver.resolve);
  await assert.rejects(
    fetch(`http://rebind.test:${server.port}/.well-known/openid-configuration`, get),
    ProviderAddressRefused,
  );
  assert.equal(resolver.calls(), 2);
  assert.equal(server.connections(), 0);

  // The same fetch where loopback is allowed reaches the server: the refusal was the rule.
  const allowed = createGuardedFetch(development, async () => ['127.0.0.1']);
  const answer = await allowed(`http://rebind.test:${server.port}/ok`, get);
  assert.equal(answer.status, 201);
  assert.equal(server.connections(), 1);
});

test('an IP-literal host, however spelled, and a name with one internal address among public ones get no connection', async (t) => {
  const server = await echoServer(t);
  const fetch = createGuardedFetch(strict, async () => {
    throw new Error('an IP literal is not looked up');
  });
  for (const url of [
    `http://127.0.0.1:${server.port}/`,
    `http://2130706433:${server.port}/`,
    `http://0x7f.1:${server.port}/`,
    `http://[::ffff:127.0.0.1]:${server.port}/`,
    'http://169.254.169.254/latest/meta-data/',
    'http://[fd00::1]/',
  ]) {
    await assert.rejects(fetch(url, get), ProviderAddressRefused, url);
  }
  const mixed = createGuardedFetch(development, async () => [PUBLIC_ADDRESS, '10.0.0.1']);
  await assert.rejects(mixed(`http://mixed.test:${server.port}/`, get), ProviderAddressRefused);
  const none = createGuardedFetch(development, async () => []);
  await assert.rejects(none(`http://empty.test:${server.port}/`, get), ProviderAddressRefused);
  assert.equal(server.connections(), 0);
});

test('the guarded fetch speaks HTTP as openid-client needs: method, headers, form body, status, and no redirect followed', async (t) => {
  const server = await echoServer(t);
  const fetch = createGuardedFetch(development);
  const answer = await fetch(`http://127.0.0.1:${server.port}/token?x=1`, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded;charset=UTF-8',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'abc' }),
  });
  assert.equal(answer.status, 201);
  assert.equal(answer.headers.get('x-answer'), 'yes');
  const echoed = (await answer.json()) as {
    method: string;
    url: string;
    headers: Record<string, string>;
    body: string;
  };
  assert.equal(echoed.method, 'POST');
  assert.equal(echoed.url, '/token?x=1');
  assert.equal(echoed.headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
  assert.equal(echoed.body, 'grant_type=authorization_code&code=abc');

  const moved = await fetch(`http://127.0.0.1:${server.port}/moved`, get);
  assert.equal(moved.status, 302);
  assert.equal(moved.headers.get('location'), 'http://169.254.169.254/latest/meta-data/');
  assert.equal(server.connections(), 2);
});

test('a fetch that outlives its signal is aborted', async (t) => {
  const hanging = createServer(() => {});
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    hanging.closeAllConnections();
    return new Promise<void>((resolve) => hanging.close(() => resolve()));
  });
  const fetch = createGuardedFetch(development);
  const began = Date.now();
  await assert.rejects(
    fetch(`http://127.0.0.1:${(hanging.address() as AddressInfo).port}/`, {
      ...get,
      signal: AbortSignal.timeout(200),
    }),
    (error: Error) => error.name === 'AbortError',
  );
  assert.ok(Date.now() - began < 5_000);
});

import assert from 'node:assert/strict';
import { Agent, request, type IncomingMessage } from 'node:http';
import { test } from 'node:test';
import {
  cliEntry,
  getWithSession,
  makeTempDir,
  postJson,
  removeDir,
  runCli,
  ServerProcess,
  sessionCookieFrom,
} from '../../helpers/process.ts';

/*
 * A fresh clone, as an operator meets it: `npm start` (node src/cli.ts serve) on an empty PGlite
 * data dir, driven over real HTTP. These tests always use PGlite: a fresh clone has no DATABASE_URL.
 */

const SETUP_LINK = /http:\/\/localhost:(\d+)\/setup#token=([A-Za-z0-9_-]+)\n/;

const ORG = { slug: 'acme', name: 'Acme Corp' };
const ADMIN = { email: 'ada@acme.test', name: 'Ada Admin', password: 'first run passphrase' };
const credentials = { org: ORG.slug, email: ADMIN.email, password: ADMIN.password };

test('a fresh start prints a setup link that creates the first org and admin, who signs in; SIGTERM exits 0; a restart keeps the data and prints no link', async () => {
  const dataDir = await makeTempDir('portcullis-first-run-');
  const servers: ServerProcess[] = [];
  try {
    const first = await ServerProcess.start({ dataDir });
    servers.push(first);
    const link = await first.waitForOutput(SETUP_LINK);
    assert.equal(link[1], String(first.port));
    const token = link[2] ?? '';
    assert.equal(Buffer.from(token, 'base64url').length, 32);
    // The token is printed once, in the link, and in no log line.
    assert.equal(first.stdout.split(token).length, 2);

    const page = await fetch(`${first.baseUrl}/setup`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /<div id="root"><\/div>/);

    const before = await fetch(`${first.baseUrl}/api/v1/setup`);
    assert.equal(before.status, 200);
    assert.deepEqual(await before.json(), { open: true });

    const setupBody = { token, org: ORG, admin: ADMIN };
    // A typo is refused before the token is touched: the link still works afterwards.
    const typo = await postJson(`${first.baseUrl}/api/v1/setup`, {
      ...setupBody,
      admin: { ...ADMIN, password: 'short' },
    });
    assert.equal(typo.status, 400);
    assert.equal(((await typo.json()) as { error: string }).error, 'weak_password');
    const wrongToken = await postJson(`${first.baseUrl}/api/v1/setup`, {
      ...setupBody,
      token: 'not-the-printed-token',
    });
    assert.equal(wrongToken.status, 403);
    assert.equal(((await wrongToken.json()) as { error: string }).error, 'invalid_setup_token');

    const created = await postJson(`${first.baseUrl}/api/v1/setup`, setupBody);
    assert.equal(created.status, 201);
    assert.deepEqual(await created.json(), { org: ORG });
    const setupCookie = sessionCookieFrom(created);
    assert.ok(setupCookie, 'setup signs the new admin in');
    const setCookie = created.headers.getSetCookie().join('\n');
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Lax/);

    const meAfterSetup = await getWithSession(`${first.baseUrl}/api/v1/me`, setupCookie);
    assert.equal(meAfterSetup.status, 200);
    const meBody = (await meAfterSetup.json()) as {
      user: { email: string; name: string; role: string; org: { slug: string; name: string } };
      session: { status: string; aal: number };
    };
    assert.equal(meBody.user.email, ADMIN.email);
    assert.equal(meBody.user.name, ADMIN.name);
    assert.equal(meBody.user.role, 'admin');
    assert.deepEqual(meBody.user.org, ORG);
    assert.deepEqual(meBody.session, { status: 'authenticated', aal: 1 });

    // The org now exists, which is checked before the (already consumed) token.
    const again = await postJson(`${first.baseUrl}/api/v1/setup`, setupBody);
    assert.equal(again.status, 409);
    assert.deepEqual(await again.json(), {
      error: 'setup_complete',
      message: 'Setup is complete: an organization already exists.',
    });
    const after = await fetch(`${first.baseUrl}/api/v1/setup`);
    assert.deepEqual(await after.json(), { open: false });

    const login = await postJson(`${first.baseUrl}/api/v1/auth/login`, credentials);
    assert.equal(login.status, 200);
    const loginBody = (await login.json()) as { status: string; aal: number };
    assert.equal(loginBody.status, 'authenticated');
    assert.equal(loginBody.aal, 1);
    const loginCookie = sessionCookieFrom(login);
    assert.ok(loginCookie);
    assert.notEqual(loginCookie, setupCookie);
    const me = await getWithSession(`${first.baseUrl}/api/v1/me`, loginCookie);
    assert.equal(me.status, 200);
    assert.equal(((await me.json()) as { user: { email: string } }).user.email, ADMIN.email);

    assert.deepEqual(await first.stop('SIGTERM'), { code: 0, signal: null });
    assert.match(first.stdout, /"signal":"SIGTERM","msg":"shutting down"/);
    assert.ok(!first.stdout.includes(ADMIN.password), 'the password is never logged');
    assert.equal(first.stderr, '');

    const second = await ServerProcess.start({ dataDir });
    servers.push(second);
    const reopened = await fetch(`${second.baseUrl}/api/v1/setup`);
    assert.deepEqual(await reopened.json(), { open: false });
    const relogin = await postJson(`${second.baseUrl}/api/v1/auth/login`, credentials);
    assert.equal(relogin.status, 200);
    const reloginCookie = sessionCookieFrom(relogin);
    assert.ok(reloginCookie);
    const meAgain = await getWithSession(`${second.baseUrl}/api/v1/me`, reloginCookie);
    assert.equal(meAgain.status, 200);
    // Sessions live in the database, so a restart signs nobody out.
    const oldSession = await getWithSession(`${second.baseUrl}/api/v1/me`, loginCookie);
    assert.equal(oldSession.status, 200);
    const wrongPassword = await postJson(`${second.baseUrl}/api/v1/auth/login`, {
      ...credentials,
      password: 'not the passphrase',
    });
    assert.equal(wrongPassword.status, 401);
    assert.equal(((await wrongPassword.json()) as { error: string }).error, 'invalid_credentials');

    assert.doesNotMatch(second.stdout, /setup#token=/);
    assert.doesNotMatch(second.stdout, /no organization yet/);
    assert.deepEqual(await second.stop('SIGINT'), { code: 0, signal: null });
    assert.equal(second.stderr, '');
  } finally {
    for (const server of servers) server.kill();
    await Promise.all(servers.map((server) => server.ended()));
    await removeDir(dataDir);
  }
});

/** How long a graceful shutdown may take once the requests in flight are answered. */
const SHUTDOWN_GRACE_MS = 10_000;

test('SIGTERM answers a request in flight on a keep-alive connection, then exits 0 promptly', async () => {
  const dataDir = await makeTempDir('portcullis-first-run-shutdown-');
  const agent = new Agent({ keepAlive: true });
  let server: ServerProcess | undefined;
  try {
    server = await ServerProcess.start({ dataDir });
    // Half a body keeps the request in flight, deterministically, until the signal has landed.
    const body = JSON.stringify({ org: 'acme', email: 'x@acme.test', password: 'a password' });
    const half = Math.floor(body.length / 2);
    const login = request(`${server.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    const answered = new Promise<IncomingMessage>((resolve, reject) => {
      login.once('response', resolve);
      login.once('error', reject);
    });
    login.write(body.slice(0, half));
    await server.waitForOutput(/"url":"\/api\/v1\/auth\/login"[^\n]*"incoming request"/);

    const exit = server.stop('SIGTERM', SHUTDOWN_GRACE_MS);
    await server.waitForOutput(/"msg":"shutting down"/);
    login.end(body.slice(half));
    const response = await answered;
    let text = '';
    for await (const chunk of response) text += String(chunk);
    assert.equal(response.statusCode, 401);
    assert.equal((JSON.parse(text) as { error: string }).error, 'invalid_credentials');
    assert.deepEqual(await exit, { code: 0, signal: null });
  } finally {
    agent.destroy();
    server?.kill();
    await server?.ended();
    await removeDir(dataDir);
  }
});

test('the operations endpoints answer: liveness, readiness, Prometheus metrics and the OpenAPI document', async () => {
  const dataDir = await makeTempDir('portcullis-first-run-ops-');
  const metricsToken = 'metrics-token-for-the-first-run-test-0123456789';
  let server: ServerProcess | undefined;
  try {
    server = await ServerProcess.start({
      dataDir,
      env: { PORTCULLIS_METRICS_TOKEN: metricsToken },
    });

    const health = await fetch(`${server.baseUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });

    const ready = await fetch(`${server.baseUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ok' });

    const openapi = await fetch(`${server.baseUrl}/api/v1/openapi.json`);
    assert.equal(openapi.status, 200);
    const document = (await openapi.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    assert.equal(document.openapi, '3.1.0');
    assert.ok(document.paths['/api/v1/auth/login']?.post, 'POST /api/v1/auth/login is documented');
    assert.ok(document.paths['/api/v1/setup']?.post, 'POST /api/v1/setup is documented');

    const anonymous = await fetch(`${server.baseUrl}/metrics`);
    assert.equal(anonymous.status, 401);
    const metrics = await fetch(`${server.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${metricsToken}` },
    });
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    assert.match(text, /^# TYPE portcullis_http_requests_total counter$/m);
    // The requests above are counted by route pattern and status.
    assert.match(
      text,
      /^portcullis_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1$/m,
    );
    assert.match(text, /^portcullis_process_cpu_seconds_total /m);

    assert.deepEqual(await server.stop('SIGTERM'), { code: 0, signal: null });
  } finally {
    server?.kill();
    await server?.ended();
    await removeDir(dataDir);
  }
});

test('a bad configuration stops start-up with one line naming the variable, never echoing its value', async () => {
  const dataDir = await makeTempDir('portcullis-first-run-config-');
  try {
    const cases: { env: Record<string, string>; line: string }[] = [
      { env: { PORT: 'abc' }, line: 'portcullis: PORT must be an integer from 0 to 65535' },
      { env: { PORT: '70000' }, line: 'portcullis: PORT must be an integer from 0 to 65535' },
      {
        env: { DATABASE_URL: 'mysql://u:hunter2@db.example/portcullis' },
        line: 'portcullis: DATABASE_URL must start with postgres:// or postgresql://',
      },
      {
        env: { DATABASE_URL: 'postgres://u:hunter2@db.example:notaport/portcullis' },
        line: 'portcullis: DATABASE_URL is not a valid URL',
      },
      {
        env: { LOG_LEVEL: 'loud' },
        line: 'portcullis: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      },
      {
        env: { PORTCULLIS_METRICS_TOKEN: 'hunter2' },
        line: 'portcullis: PORTCULLIS_METRICS_TOKEN must be at least 32 letters, digits or - . _ ~ + / (make one with: openssl rand -hex 32)',
      },
    ];
    for (const { env, line } of cases) {
      const result = await runCli(['serve'], { dataDir, entry: cliEntry, env });
      const label = JSON.stringify(env);
      assert.equal(result.code, 2, label);
      assert.equal(result.stderr, `${line}\n`, label);
      assert.equal(result.stdout, '', label);
      assert.ok(!result.stderr.includes('hunter2'), label);
    }
  } finally {
    await removeDir(dataDir);
  }
});

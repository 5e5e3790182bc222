import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Authenticator } from '../helpers/authenticator.ts';
import { errorOf } from './attack-helpers.ts';
import { Service } from './harness.ts';

/*
 * What every answer's headers promise, seen from outside: the metrics are off unless the operator
 * sets a token, and then need it; nothing that depends on a session or shows a secret may be kept
 * by a browser or proxy cache; and the console runs under a policy with no inline styles, no
 * framing and no foreign origins. One server per configuration (its start is most of the cost).
 */

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self'",
].join(';');

async function metrics(service: Service, authorization?: string): Promise<Response> {
  return fetch(`${service.url()}/metrics`, {
    headers: authorization === undefined ? {} : { authorization },
  });
}

test('a server as installed', async (t) => {
  const service = await Service.start(t);

  await t.test('/metrics is off, even from loopback and with a token', async () => {
    assert.deepEqual(await errorOf(await metrics(service)), { status: 404, error: 'not_found' });
    const head = await fetch(`${service.url()}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 404);
    const guessed = await metrics(service, 'Bearer anything-at-all-0123456789abcdef');
    assert.deepEqual(await errorOf(guessed), { status: 404, error: 'not_found' });
  });

  await t.test('every answer carries the exact policy: no inline style, never framed', async () => {
    for (const path of ['/', '/sign-in', '/api/v1/me', '/api/v1/no-such-route', '/healthz']) {
      const response = await fetch(`${service.url()}${path}`);
      await response.body?.cancel();
      assert.equal(response.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY, path);
      assert.equal(response.headers.get('x-frame-options'), 'DENY', path);
    }
  });

  await t.test('answers that depend on a session or show a secret are never cached', async () => {
    const anonymous = service.client();
    const admin = await service.admin();
    await service.setPolicy(admin, 'enabled');
    const noStore = (response: Response, status: number, what: string) => {
      assert.equal(response.status, status, what);
      assert.equal(response.headers.get('cache-control'), 'no-store', what);
    };

    noStore(await admin.get('/me'), 200, 'GET /me');

    const setup = await admin.post('/me/mfa/totp/setup', {});
    noStore(setup, 200, 'the TOTP setup secret');
    const { secret } = (await setup.json()) as { secret: string };
    service.secrets.add(secret);

    const wrongCode = await admin.post('/me/mfa/totp/confirm', { code: '000000' });
    noStore(wrongCode, 401, 'an error answer of an authenticated route');
    assert.equal((await errorOf(wrongCode)).error, 'invalid_code');

    const confirmed = await admin.post('/me/mfa/totp/confirm', {
      code: await new Authenticator(secret).nextCode(),
    });
    noStore(confirmed, 200, 'the recovery codes made at enrollment');
    const { recovery_codes: codes } = (await confirmed.json()) as { recovery_codes: string[] };
    for (const code of codes) service.secrets.add(code);

    const regenerated = await admin.post('/me/recovery-codes', {
      verification: { method: 'recovery_code', code: codes[0] },
    });
    noStore(regenerated, 200, 'a new set of recovery codes');
    const fresh = (await regenerated.json()) as { recovery_codes: string[] };
    for (const code of fresh.recovery_codes) service.secrets.add(code);

    noStore(await admin.get('/org/users'), 200, 'an admin list');
    noStore(await anonymous.get('/me'), 401, 'GET /me without a session');
    noStore(await anonymous.signIn('nobody@acme.test', 'wrong password'), 401, 'a failed sign-in');
    noStore(await anonymous.get('/no-such-route'), 404, 'an unknown API path');
    noStore(await anonymous.get('/openapi.json'), 200, 'the OpenAPI document');

    // The console's own files keep their caching: revalidated with their ETag.
    const page = await fetch(`${service.url()}/sign-in`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('cache-control'), 'public, max-age=0');
    assert.ok(page.headers.get('etag'), 'the console page has an ETag');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(await page.text())?.[1];
    assert.ok(script, 'the console page links its script');
    const asset = await fetch(`${service.url()}${script}`);
    await asset.body?.cancel();
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=0');
  });
});

test('a server with PORTCULLIS_METRICS_TOKEN set', async (t) => {
  const token = randomBytes(32).toString('base64url');
  // At the most verbose level: the token must still appear in no log line (checked at the end).
  const service = await Service.start(t, {
    env: { PORTCULLIS_METRICS_TOKEN: token, LOG_LEVEL: 'trace' },
  });
  service.secrets.add(token);

  await t.test('/metrics refuses a missing, wrong or badly sent token', async () => {
    const refused = [
      undefined,
      '',
      'Bearer',
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token}x`,
      `Bearer ${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
      `Basic ${Buffer.from(`metrics:${token}`).toString('base64')}`,
      token,
    ];
    for (const authorization of refused) {
      const response = await metrics(service, authorization);
      const label = String(authorization);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="metrics"', label);
      assert.equal(response.headers.get('cache-control'), 'no-store', label);
      assert.deepEqual(await errorOf(response), { status: 401, error: 'invalid_metrics_token' });
    }
    const head = await fetch(`${service.url()}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 401);

    // The refused tries are counted, by route pattern and status.
    const counted = await metrics(service, `Bearer ${token}`);
    assert.ok(
      (await counted.text()).includes(
        `portcullis_http_requests_total{method="GET",route="/metrics",status="401"} ${refused.length}\n`,
      ),
    );
  });

  await t.test('/metrics answers the exposition to the right token, never cached', async () => {
    for (const authorization of [`Bearer ${token}`, `bearer ${token}`]) {
      const response = await metrics(service, authorization);
      assert.equal(response.status, 200, authorization);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      assert.match(await response.text(), /^# TYPE portcullis_http_requests_total counter$/m);
    }
  });
});

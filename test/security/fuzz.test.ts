import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { operationsOf, type DocumentedOperation } from '../helpers/route-discovery.ts';
import { anyJson, mutated, valid } from '../helpers/schema-fuzz.ts';
import { ADMIN, Service } from './harness.ts';
import { brokenInvariants } from './invariants.ts';
import { totpMember, type Member } from './load-helpers.ts';

/*
 * Property tests that throw generated requests at every route the server's OpenAPI document lists
 * (so a new route is covered the day it is added): JSON values, bodies shaped by the route's
 * schema with fields of the wrong type, raw bodies of every content type, query strings, path
 * parameters, cookies, X-Forwarded-For and Origin, each sent with no session, with a session
 * waiting for its second factor, and with a fully signed-in admin.
 *
 * Property: no answer is a 5xx, and every /api error is JSON with an `error` string. After the
 * run: /healthz answers 200 and the database breaks no invariant (invariants.ts). One property
 * mixes the three kinds of request, so that the database is inspected once: on PGlite a look
 * means stopping and starting the server.
 * FUZZ_SEED=<n> replays a run; fast-check prints the seed and path of a failure.
 */

const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** About 15 s of requests on a busy 2-core machine. */
const RUNS = 450;

type Route = DocumentedOperation;
type Identity = 'none' | 'pre-mfa' | 'admin';

/** Every operation of the OpenAPI document. */
async function routesOf(service: Service): Promise<Route[]> {
  const response = await fetch(`${service.url()}/api/v1/openapi.json`);
  assert.equal(response.status, 200);
  return operationsOf(await response.json());
}

type Body = { text: string | undefined; contentType: string | undefined };

function bodiesFor(route: Route): fc.Arbitrary<Body> {
  const json = (value: fc.Arbitrary<unknown>) =>
    value.map((v) => ({ text: JSON.stringify(v) ?? 'null', contentType: 'application/json' }));
  return fc.oneof(
    json(valid(route.bodySchema)),
    json(mutated(route.bodySchema)),
    json(anyJson),
    fc.constant({ text: undefined, contentType: undefined }),
    fc.constant({ text: undefined, contentType: 'application/json' }),
  );
}

const contentTypes = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/jsonx',
  '',
);

const rawBodies: fc.Arbitrary<Body> = fc.record({
  text: fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constantFrom(
      '{',
      '{"a":',
      '[1,2',
      'null',
      '"just a string"',
      '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"admin":true}}}',
      'a=1&b=2&a=3',
      '{"org":"acme","org":"other"}',
      '\u0000',
      `{"x":"${'y'.repeat(20_000)}"}`,
      '1'.repeat(17_000),
      `${'['.repeat(5000)}${']'.repeat(5000)}`,
    ),
  ),
  contentType: contentTypes,
});

const headerText = fc.string({ unit: 'grapheme-ascii', maxLength: 60 }).map((s) =>
  // Header values cannot hold control characters; fetch would refuse to send them.
  s.replace(/[\u0000-\u001f\u007f]/g, ''),
);

const segments = fc.oneof(
  fc.uuid().map((id) => ({ raw: id })),
  fc.string({ maxLength: 30 }).map((s) => ({ raw: encodeURIComponent(s) })),
  fc.constantFrom(
    { raw: '' },
    { raw: 'totp' },
    { raw: 'email' },
    { raw: 'acme' },
    { raw: '..' },
    { raw: '%2e%2e%2f%2e%2e' },
    { raw: 'a%2Fb' },
    { raw: '%00' },
    { raw: '%zz' },
    { raw: '%C0%AF' },
    { raw: '00000000-0000-0000-0000-000000000000' },
    { raw: 'x'.repeat(2000) },
  ),
);

function queriesFor(route: Route): fc.Arbitrary<string> {
  const known = route.parameters.filter((p) => p.in === 'query');
  const pair = (key: fc.Arbitrary<string>, value: fc.Arbitrary<unknown>) =>
    fc
      .tuple(key, value)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  const pairs = fc.oneof(
    pair(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 })),
    ...known.map((p) => pair(fc.constant(p.name), valid(p.schema))),
    ...known.map((p) =>
      pair(
        fc.constant(p.name),
        anyJson.map((v) => JSON.stringify(v)),
      ),
    ),
    fc.constantFrom(
      'limit=%00',
      'cursor=%00',
      'a=%00',
      'limit=1&limit=2',
      'limit[]=1',
      '%zz=1',
      '=',
    ),
  );
  return fc.array(pairs, { maxLength: 4 }).map((parts) => parts.join('&'));
}

type Headers = { cookie?: string; forwarded?: string; origin?: string; secFetchSite?: string };

const headerSets: fc.Arbitrary<Headers> = fc.record(
  {
    cookie: fc.oneof(
      headerText.map((v) => `portcullis_session=${v}`),
      headerText,
      fc.constantFrom(
        `portcullis_session=${'a'.repeat(8000)}`,
        'portcullis_session=a; portcullis_session=b',
        'portcullis_session=',
        'portcullis_session=%00',
        '__Host-portcullis_session=x',
      ),
    ),
    forwarded: fc.oneof(
      headerText,
      fc.ipV4(),
      fc.ipV6(),
      fc.array(fc.ipV4(), { maxLength: 30 }).map((ips) => ips.join(', ')),
      fc.constantFrom('unknown', '::1, 127.0.0.1', '999.999.999.999', ', , ,'),
    ),
    origin: fc.oneof(
      headerText,
      fc.constantFrom('null', 'https://evil.example', 'http://localhost'),
    ),
    secFetchSite: fc.constantFrom('cross-site', 'same-origin', 'none', 'same-site'),
  },
  { requiredKeys: [] },
);

const methods = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD');

type FuzzRequest = {
  route: Route;
  identity: Identity;
  method: string;
  params: { raw: string }[];
  query: string;
  headers: Headers;
  body: Body;
};

type Counter = { sent: number; statuses: Record<string, number> };

/** Signs the fuzzing identities in again whenever a request may have ended their sessions. */
class Identities {
  readonly cookies: Record<Identity, string | undefined> = {
    none: undefined,
    'pre-mfa': undefined,
    admin: undefined,
  };
  private readonly stale = new Set<Identity>(['pre-mfa', 'admin']);
  private readonly service: Service;
  private readonly member: Member;

  constructor(service: Service, member: Member) {
    this.service = service;
    this.member = member;
  }

  markStale(...identities: Identity[]) {
    for (const identity of identities) if (identity !== 'none') this.stale.add(identity);
  }

  async cookieOf(identity: Identity): Promise<string | undefined> {
    if (this.stale.has(identity)) {
      const [email, password, status] =
        identity === 'admin'
          ? [ADMIN.email, ADMIN.password, 'authenticated']
          : [this.member.email, this.member.password, 'mfa_required'];
      const client = this.service.client();
      const response = await client.signIn(email, password);
      const text = await response.text();
      assert.equal(response.status, 200, `signing ${identity} in again: ${text}`);
      assert.equal((JSON.parse(text) as { status: string }).status, status, text);
      this.cookies[identity] = client.cookie;
      this.stale.delete(identity);
    }
    return this.cookies[identity];
  }
}

/** Answers that are not the server's fault: an upstream (mail server, identity provider) is down. */
const UPSTREAM_ERRORS = new Set(['502 sso_unavailable', '503 email_unavailable']);

async function send(
  service: Service,
  identities: Identities,
  request: FuzzRequest,
  counter: Counter,
) {
  const { route, identity, headers, body } = request;
  let i = 0;
  const path = route.path.replace(/\{[^}]+\}/g, () => request.params[i++ % 2]?.raw ?? 'x');
  const url = `${service.url()}${path}${request.query ? `?${request.query}` : ''}`;
  const cookie = await identities.cookieOf(identity);
  let text = body.text;
  // The admin has no factor, so that it can always sign in again with its password alone. A
  // valid strengthening to "required" would send it to enrollment for good: that one request is
  // made to keep the policy (strengthening is covered by the org policy tests).
  if (
    identity === 'admin' &&
    route.path.endsWith('/org/mfa/policy') &&
    text?.includes('required')
  ) {
    text = text.replaceAll('required', 'enabled');
  }
  const init: RequestInit = {
    method: request.method,
    redirect: 'manual',
    headers: {
      ...(cookie ? { cookie: `portcullis_session=${cookie}` } : {}),
      ...(headers.cookie !== undefined ? { cookie: headers.cookie } : {}),
      ...(headers.forwarded !== undefined ? { 'x-forwarded-for': headers.forwarded } : {}),
      ...(headers.origin !== undefined ? { origin: headers.origin } : {}),
      ...(headers.secFetchSite !== undefined ? { 'sec-fetch-site': headers.secFetchSite } : {}),
      ...(body.contentType !== undefined ? { 'content-type': body.contentType } : {}),
    },
    ...(text !== undefined && !['GET', 'HEAD'].includes(request.method) ? { body: text } : {}),
  };
  counter.sent += 1;
  const response = await fetch(url, init);
  const kind = `${Math.floor(response.status / 100)}xx`;
  counter.statuses[kind] = (counter.statuses[kind] ?? 0) + 1;
  const answer = await response.text();
  const label = `${request.method} ${url} as ${identity} -> ${response.status} ${answer.slice(0, 300)}`;
  let error: unknown;
  try {
    error = (JSON.parse(answer) as { error?: unknown }).error;
  } catch {
    error = undefined;
  }
  if (response.status >= 500) {
    assert.ok(UPSTREAM_ERRORS.has(`${response.status} ${String(error)}`), `a 5xx: ${label}`);
  }
  if (response.status >= 400 && request.method !== 'HEAD') {
    assert.equal(typeof error, 'string', `an error without an error code: ${label}`);
  }

  // Whatever may have ended or changed the identities' sessions: sign them in again before use.
  if (response.status === 401 && cookie && headers.cookie === undefined) {
    identities.markStale(identity);
  }
  if (route.path.endsWith('/auth/logout') || route.path.endsWith('/auth/login')) {
    identities.markStale(identity);
  }
  // A wrong current password counts toward the admin's lock; signing in again clears the count.
  if (route.path.endsWith('/me/password')) identities.markStale(identity);
  if (route.path.endsWith('/org/mfa/policy') && response.status < 300) {
    identities.markStale('admin', 'pre-mfa');
  }
}

/** The server is up and the database holds together; the org's settings are put back. */
async function assertHealthy(t: TestContext, service: Service, identities: Identities) {
  assert.equal((await fetch(`${service.url()}/healthz`)).status, 200);
  const broken = await service.inspectDatabase(brokenInvariants);
  assert.deepEqual(broken, [], `broken invariants: ${broken.join('; ')}`);
  const cookie = await identities.cookieOf('admin');
  const restored = await fetch(`${service.url()}/api/v1/org/mfa/methods`, {
    method: 'PUT',
    headers: { cookie: `portcullis_session=${cookie}`, 'content-type': 'application/json' },
    body: JSON.stringify({ totp: true, email: true }),
  });
  assert.equal(restored.status, 200, await restored.text());
  t.diagnostic('healthz 200, no broken invariant');
}

test('generated requests to every route never get a 5xx, and the server and database stay sound', async (t) => {
  const service = await Service.start(t);
  const admin = await service.admin();
  // Turning MFA on sends an admin without a factor to enrollment; a member with an authenticator
  // app gives the pre-MFA identity. The admin keeps no factor of its own (see `send`).
  await service.setPolicy(admin, 'enabled');
  const member = await totpMember(service, await service.admin());
  const identities = new Identities(service, member);
  const routes = await routesOf(service);
  t.diagnostic(`${routes.length} operations in the OpenAPI document`);
  assert.ok(routes.length >= 30, 'the OpenAPI document lists the API');
  const counter: Counter = { sent: 0, statuses: {} };
  // The identities are what they claim to be, so that requests get past the session guards.
  for (const [identity, status] of [
    ['admin', 'authenticated'],
    ['pre-mfa', 'mfa_required'],
  ] as const) {
    const me = await fetch(`${service.url()}/api/v1/me`, {
      headers: { cookie: `portcullis_session=${await identities.cookieOf(identity)}` },
    });
    assert.equal(((await me.json()) as { session: { status: string } }).session.status, status);
  }
  const identity = fc.constantFrom<Identity>('none', 'pre-mfa', 'admin');
  const route = fc.constantFrom(...routes);

  const params = fc.array(segments, { minLength: 2, maxLength: 2 });
  const requests = fc.oneof(
    // JSON bodies: schema-shaped, mistyped and arbitrary values.
    route.chain((r) =>
      fc.record({
        route: fc.constant(r),
        identity,
        method: fc.constant(r.method),
        params,
        query: fc.constant(''),
        headers: fc.constant({}),
        body: bodiesFor(r),
      }),
    ),
    // Raw bodies of any content type, also with methods the route does not have.
    fc.record({
      route,
      identity,
      method: fc.oneof(methods, fc.constant('POST')),
      params,
      query: fc.constant(''),
      headers: fc.constant({}),
      body: rawBodies,
    }),
    // Query strings, path parameters, cookies, X-Forwarded-For, Origin and Sec-Fetch-Site.
    route.chain((r) =>
      fc.record({
        route: fc.constant(r),
        identity,
        method: fc.constant(r.method),
        params,
        query: queriesFor(r),
        headers: headerSets,
        body: bodiesFor(r),
      }),
    ),
  );
  await fc.assert(
    fc.asyncProperty(requests, (request) => send(service, identities, request, counter)),
    { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
  );
  await assertHealthy(t, service, identities);
  t.diagnostic(`${counter.sent} generated requests sent: ${JSON.stringify(counter.statuses)}`);
  assert.ok((counter.statuses['2xx'] ?? 0) > 0, 'some generated requests were valid and served');
});

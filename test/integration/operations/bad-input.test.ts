import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { HTTPMethods, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { ErrorCode } from '../../../src/core/errors.ts';
import { REQUEST_BODY_MAX_BYTES } from '../../../src/core/limits.ts';
import {
  ADMIN_PASSWORD,
  MEMBER_PASSWORD,
  createTestApp,
  seedOrg,
  signIn,
  uniqueSlug,
  withSession,
  type SeededOrg,
  type TestApp,
} from '../../helpers/app.ts';
import {
  Verdicts,
  errorBodyOf,
  mismatch,
  serverFault,
  shown,
} from '../../helpers/error-answers.ts';
import {
  STATE_CHANGING,
  discoverRoutes,
  type Guard,
  type Route,
} from '../../helpers/route-discovery.ts';
import {
  exampleOf,
  fieldsOf,
  isEnumerated,
  jsonOfBytes,
  objectPathsOf,
  pointer,
  valueAt,
  withValue,
  without,
  wrongValuesFor,
  type FieldPath,
  type Json,
  type JsonObject,
} from '../../helpers/schema-fuzz.ts';
import { useTestStore } from '../../helpers/store.ts';

/*
 * Bad input of every kind, sent to every route the app registers: each gets the exact cataloged
 * 4xx, never a 5xx, and the server keeps serving.
 */

const routes = await discoverRoutes();
const stateChangingRoutes = routes.filter((route) => STATE_CHANGING.has(route.method));
const guardedRoutes = routes.filter((route) => route.guard !== 'public');

// ---------------------------------------------------------------------------------------------
// One app and one org per test.
// ---------------------------------------------------------------------------------------------

type RequestShape = {
  /** Sent as JSON text with Content-Type application/json. */
  body?: Json;
  /** Sent as is, with Content-Type application/json unless contentType says otherwise. */
  raw?: string | Buffer | Readable;
  /** null: no Content-Type header at all. */
  contentType?: string | null;
  headers?: Record<string, string>;
  /** The session cookie to send; the arranged admin session when absent. null: none. */
  token?: string | null;
};

type Arranged = TestApp & {
  seeded: SeededOrg;
  /** An admin session for guarded routes, null for public ones. */
  token: string | null;
  send(route: Route, shape?: RequestShape): Promise<LightMyRequestResponse>;
};

const store = useTestStore();

async function arrange(context: TestContext, guard: Guard = 'session'): Promise<Arranged> {
  const testApp = await createTestApp(store);
  context.after(() => testApp.close());
  const seeded = await seedOrg(testApp.deps);
  const token = guard === 'public' ? null : await signIn(testApp.app, adminOf(seeded));
  return {
    ...testApp,
    seeded,
    token,
    send: (route, shape = {}) => testApp.app.inject(requestFor(route, shape, token)),
  };
}

function requestFor(
  route: Route,
  shape: RequestShape,
  arrangedToken: string | null,
): InjectOptions {
  const headers: Record<string, string> = {};
  let payload: InjectOptions['payload'];
  if (shape.body !== undefined) payload = JSON.stringify(shape.body);
  if (shape.raw !== undefined) payload = shape.raw;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  if (shape.contentType === null) delete headers['content-type'];
  else if (shape.contentType !== undefined) headers['content-type'] = shape.contentType;
  const token = shape.token === undefined ? arrangedToken : shape.token;
  if (token !== null) headers.cookie = `portcullis_session=${token}`;
  Object.assign(headers, shape.headers);
  return {
    method: route.method,
    url: route.url,
    headers,
    ...(payload === undefined ? {} : { payload }),
  };
}

function adminOf(seeded: SeededOrg) {
  return { org: seeded.org.slug, email: seeded.admin.email, password: ADMIN_PASSWORD };
}

/** A body the route would accept, for the routes this file knows; the schema's example otherwise. */
function validBodyFor(route: Route, seeded: SeededOrg): Json | undefined {
  const unique = randomBytes(4).toString('hex');
  switch (route.key) {
    case 'POST /api/v1/setup':
      return {
        token: randomBytes(32).toString('base64url'),
        org: { slug: uniqueSlug('setup'), name: 'Acme' },
        admin: {
          email: `root-${unique}@acme.test`,
          name: 'Root',
          password: 'a long enough password',
        },
      };
    case 'POST /api/v1/auth/login':
      return adminOf(seeded);
    case 'POST /api/v1/org/users':
      return {
        email: `new-${unique}@${seeded.org.slug}.test`,
        name: 'New Person',
        role: 'member',
        password: 'another long password',
      };
    default:
      return route.bodySchema ? exampleOf(route.bodySchema) : undefined;
  }
}

/**
 * After a barrage: the server is up, Object.prototype is untouched, sign-in still works and the
 * session the barrage was sent with is still alive.
 */
async function assertStillServing(arranged: Arranged) {
  const { app, seeded, token } = arranged;
  const health = await app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(health.statusCode, 200, shown(health));
  assert.deepEqual(health.json(), { status: 'ok' });
  assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false, 'Object.prototype was polluted');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);

  const fresh = await signIn(app, adminOf(seeded));
  const me = await app.inject({ method: 'GET', url: '/api/v1/me', headers: withSession(fresh) });
  assert.equal(me.statusCode, 200, shown(me));
  assert.equal(me.json().user.email, seeded.admin.email);

  if (token !== null) {
    const still = await app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: withSession(token),
    });
    assert.equal(still.statusCode, 200, `the barrage ended the session: ${shown(still)}`);
  }
}

// ---------------------------------------------------------------------------------------------

describe('Bad input across every route', () => {
  test('every state-changing route is in the OpenAPI document, so the barrage reads its schema', () => {
    assert.ok(stateChangingRoutes.length >= 4, 'too few routes were discovered');
    for (const expected of ['POST /api/v1/setup', 'POST /api/v1/auth/login']) {
      assert.ok(
        stateChangingRoutes.some((route) => route.key === expected),
        `${expected} not found`,
      );
    }
    assert.deepEqual(
      stateChangingRoutes.filter((route) => !route.documented).map((route) => route.key),
      [],
    );
  });

  test('without a session, every non-public route answers 401 unauthenticated, body unread', async (t) => {
    const arranged = await arrange(t, 'public');
    const verdicts = new Verdicts();
    const stateless: RequestShape[] = [
      {},
      { token: randomBytes(32).toString('base64url') },
      { token: 'x'.repeat(129) },
    ];
    assert.ok(guardedRoutes.length >= 3, 'too few guarded routes were discovered');
    for (const route of guardedRoutes) {
      const withBodies: RequestShape[] = [
        { body: validBodyFor(route, arranged.seeded) ?? {} },
        { raw: '{"not json' },
        { raw: 'email=a', contentType: 'text/plain' },
        { raw: jsonOfBytes(REQUEST_BODY_MAX_BYTES + 1, {}) },
      ];
      const shapes = STATE_CHANGING.has(route.method) ? [...stateless, ...withBodies] : stateless;
      for (const [index, shape] of shapes.entries()) {
        verdicts.expect(
          `${route.key} #${index}`,
          await arranged.send(route, shape),
          'unauthenticated',
        );
      }
    }
    verdicts.assertNone();
    await assertStillServing(arranged);
  });

  test('a member calling an admin route is refused with 403 forbidden, whatever the body', async (t) => {
    const arranged = await arrange(t);
    const { seeded } = arranged;
    const member = await signIn(arranged.app, {
      org: seeded.org.slug,
      email: seeded.member.email,
      password: MEMBER_PASSWORD,
    });
    const verdicts = new Verdicts();
    const adminRoutes = routes.filter((route) => route.guard === 'admin');
    assert.ok(adminRoutes.length > 0);
    for (const route of adminRoutes) {
      const shapes: RequestShape[] = STATE_CHANGING.has(route.method)
        ? [
            { body: validBodyFor(route, seeded) ?? {} },
            { raw: '{"not json' },
            { raw: '{}', contentType: 'text/plain' },
          ]
        : [{}];
      for (const [index, shape] of shapes.entries()) {
        const response = await arranged.send(route, { ...shape, token: member });
        verdicts.expect(`${route.key} #${index}`, response, 'forbidden');
      }
    }
    verdicts.assertNone();
    const created = await store.db
      .selectFrom('users')
      .select('email')
      .where('org_id', '=', seeded.org.id)
      .execute();
    assert.equal(created.length, 2, 'a member created a user');
    await assertStillServing(arranged);
  });

  test('an unknown, empty, overlong or garbled session cookie answers 401 unauthenticated', async (t) => {
    const arranged = await arrange(t);
    const me = routes.find((route) => route.key === 'GET /api/v1/me');
    assert.ok(me);
    const verdicts = new Verdicts();
    const cookies = [
      'portcullis_session=',
      'portcullis_session',
      `portcullis_session=${randomBytes(32).toString('base64url')}`,
      `portcullis_session=${'a'.repeat(129)}`,
      `portcullis_session=${'a'.repeat(8000)}`,
      `portcullis_session=${arranged.token}x`,
      `portcullis_session=${arranged.token?.slice(0, -1)}`,
      "portcullis_session=' or '1'='1",
      'portcullis_session=%00%00',
      'portcullis_session=%E0%A4%A',
      'portcullis_session="unterminated',
      ';;;==;=',
      `other=${arranged.token}`,
    ];
    for (const cookie of cookies) {
      const response = await arranged.send(me, { token: null, headers: { cookie } });
      verdicts.expect(`cookie ${cookie.slice(0, 60)}`, response, 'unauthenticated');
    }
    verdicts.assertNone();
    await assertStillServing(arranged);
  });

  test('a number where a string is expected is refused, never coerced into one', async (t) => {
    const arranged = await arrange(t);
    const { app, seeded } = arranged;
    const digits = '1234567890';
    const email = `digits@${seeded.org.slug}.test`;
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/org/users',
      headers: withSession(arranged.token ?? ''),
      payload: { email, name: 'Dee Digits', role: 'member', password: digits },
    });
    assert.equal(created.statusCode, 201, shown(created));

    const asNumber = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { org: seeded.org.slug, email, password: Number(digits) },
    });
    assert.equal(mismatch(asNumber, 'invalid_request', 'body/password'), null);
    assert.equal(asNumber.cookies.length, 0, 'a numeric password opened a session');

    const asString = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { org: seeded.org.slug, email, password: digits },
    });
    assert.equal(asString.statusCode, 200, shown(asString));

    const uncoerced = [
      { email: `n1@${seeded.org.slug}.test`, name: 12345, role: 'member', password: digits },
      { email: 12345, name: 'Numeric Email', role: 'member', password: digits },
      { email: `n2@${seeded.org.slug}.test`, name: 'Stringly', role: 'member', sso: 'true' },
      { email: `n3@${seeded.org.slug}.test`, name: 'Stringly', role: 'member', sso: 0 },
      { email: `n4@${seeded.org.slug}.test`, name: ['Array'], role: 'member', password: digits },
    ];
    for (const payload of uncoerced) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/org/users',
        headers: withSession(arranged.token ?? ''),
        payload,
      });
      assert.equal(mismatch(response, 'invalid_request', 'body/'), null, JSON.stringify(payload));
    }
    const users = await store.db
      .selectFrom('users')
      .select('email')
      .where('org_id', '=', seeded.org.id)
      .execute();
    assert.deepEqual(users.map((user) => user.email).sort(), [
      seeded.admin.email,
      email,
      seeded.member.email,
    ]);
    await assertStillServing(arranged);
  });

  test('a body of exactly 16 KiB is read; one byte more is refused with 413 payload_too_large', async (t) => {
    const arranged = await arrange(t, 'public');
    const login = routes.find((route) => route.key === 'POST /api/v1/auth/login');
    assert.ok(login);
    const fields = { org: arranged.seeded.org.slug, email: arranged.seeded.admin.email };
    const exact = await arranged.send(login, { raw: jsonOfBytes(REQUEST_BODY_MAX_BYTES, fields) });
    assert.equal(mismatch(exact, 'invalid_request', 'body'), null);
    const over = await arranged.send(login, {
      raw: jsonOfBytes(REQUEST_BODY_MAX_BYTES + 1, fields),
    });
    assert.equal(mismatch(over, 'payload_too_large'), null);
    await assertStillServing(arranged);
  });

  test('with a configured base URL, only that origin may send a state-changing request', async (t) => {
    const baseUrl = 'https://id.example.test';
    const testApp = await createTestApp(store, { baseUrl });
    t.after(() => testApp.close());
    const seeded = await seedOrg(testApp.deps);
    const login = (headers: Record<string, string>) =>
      testApp.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers,
        payload: adminOf(seeded),
      });
    for (const origin of [
      'http://localhost:80',
      'http://id.example.test',
      'https://id.example.test:8443',
      'https://evil.example',
      'null',
    ]) {
      assert.equal(mismatch(await login({ origin }), 'forbidden_origin'), null, origin);
    }
    const allowed = await login({ origin: baseUrl, 'sec-fetch-site': 'same-origin' });
    assert.equal(allowed.statusCode, 200, shown(allowed));
    assert.ok(allowed.cookies.some((cookie) => cookie.name === '__Host-portcullis_session'));
  });

  test('unknown paths and unregistered methods answer a JSON 404 or 405, never a 5xx', async (t) => {
    const arranged = await arrange(t, 'public');
    const verdicts = new Verdicts();
    const probes: Array<{ method: HTTPMethods; url: string }> = [
      { method: 'POST', url: '/api/v1/nowhere' },
      { method: 'GET', url: '/api/v1/nowhere' },
      { method: 'DELETE', url: '/api/v1/org/users/../../setup' },
      ...stateChangingRoutes.flatMap((route) =>
        (['GET', 'PUT', 'PATCH', 'DELETE'] as const)
          .filter((method) => !routes.some((r) => r.path === route.path && r.method === method))
          .map((method) => ({ method, url: route.url })),
      ),
    ];
    // Fastify answers 404 for a method a path does not have; 405 would be as right.
    const codeOfStatus: Record<number, ErrorCode> = { 405: 'method_not_allowed' };
    for (const probe of probes) {
      const response = await arranged.app.inject({
        ...probe,
        payload: '{}',
        headers: { 'content-type': 'application/json' },
      });
      verdicts.expect(
        `${probe.method} ${probe.url}`,
        response,
        codeOfStatus[response.statusCode] ?? 'not_found',
      );
    }
    verdicts.assertNone();
    await assertStillServing(arranged);
  });

  test('a malformed percent-encoding in the URL answers 400 invalid_request in the API error format', async (t) => {
    const arranged = await arrange(t, 'public');
    const verdicts = new Verdicts();
    const probes: Array<{ method: HTTPMethods; url: string }> = [
      { method: 'GET', url: '/api/v1/%%%' },
      { method: 'GET', url: '/api/v1/me%E0%A4%A' },
      ...stateChangingRoutes.map((route) => ({ method: route.method, url: `${route.url}%ZZ` })),
    ];
    for (const probe of probes) {
      const response = await arranged.app.inject({
        ...probe,
        payload: '{}',
        headers: { 'content-type': 'application/json' },
      });
      verdicts.expect(`${probe.method} ${probe.url}`, response, 'invalid_request');
    }
    verdicts.assertNone();
    await assertStillServing(arranged);
  });

  for (const route of stateChangingRoutes) {
    describe(route.key, () => {
      const session = route.guard === 'public' ? 'public' : 'session';

      test('malformed JSON is refused with 400 invalid_json', async (t) => {
        const arranged = await arrange(t, session);
        const verdicts = new Verdicts();
        const malformed: Array<string | Buffer> = [
          '',
          '{',
          '{"a": 1,}',
          "{'a': 1}",
          '{"a" 1}',
          '{"a": "unterminated}',
          '{"a": 01}',
          '{"a": "\\x41"}',
          '{"a": NaN}',
          'undefined',
          '{} {}',
          Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
        ];
        for (const raw of malformed) {
          verdicts.expect(
            JSON.stringify(String(raw)),
            await arranged.send(route, { raw }),
            'invalid_json',
          );
        }
        verdicts.assertNone();
        await assertStillServing(arranged);
      });

      test('a body that is not application/json is refused with 415 unsupported_media_type', async (t) => {
        const arranged = await arrange(t, session);
        const verdicts = new Verdicts();
        const json = JSON.stringify(validBodyFor(route, arranged.seeded) ?? {});
        const bodies: Array<{ contentType: string | null; raw: string }> = [
          { contentType: 'text/plain', raw: json },
          { contentType: 'text/plain;charset=UTF-8', raw: json },
          { contentType: 'application/x-www-form-urlencoded', raw: 'org=a&email=b&password=c' },
          { contentType: 'multipart/form-data; boundary=x', raw: '--x\r\n\r\n--x--' },
          { contentType: 'application/xml', raw: '<a/>' },
          { contentType: 'text/json', raw: json },
          { contentType: 'application/json-patch+json', raw: json },
          { contentType: 'application/octet-stream', raw: json },
          { contentType: null, raw: json },
        ];
        for (const shape of bodies) {
          verdicts.expect(
            String(shape.contentType),
            await arranged.send(route, shape),
            'unsupported_media_type',
          );
        }
        verdicts.assertNone();
        await assertStillServing(arranged);
      });

      test('a body over 16 KiB is refused with 413 payload_too_large, however it is sent', async (t) => {
        const arranged = await arrange(t, session);
        const verdicts = new Verdicts();
        const over = REQUEST_BODY_MAX_BYTES + 1;
        const ascii = jsonOfBytes(over, {});
        const multibyte = jsonOfBytes(over, {}, '€');
        assert.ok(
          multibyte.length < REQUEST_BODY_MAX_BYTES,
          'the limit counts bytes, not characters',
        );
        const shapes: Array<[string, RequestShape]> = [
          ['one byte over', { raw: ascii }],
          ['over in bytes, under in characters', { raw: multibyte }],
          ['streamed without a length', { raw: Readable.from([Buffer.from(ascii)]) }],
          [
            'a declared length over the limit',
            { raw: '{}', headers: { 'content-length': '1048576' } },
          ],
          ['a megabyte', { raw: jsonOfBytes(1024 * 1024, {}) }],
        ];
        for (const [what, shape] of shapes) {
          verdicts.expect(what, await arranged.send(route, shape), 'payload_too_large');
        }
        verdicts.assertNone();
        await assertStillServing(arranged);
      });

      test('__proto__ and constructor.prototype keys are refused with 400 invalid_json', async (t) => {
        const arranged = await arrange(t, session);
        const verdicts = new Verdicts();
        const base = (validBodyFor(route, arranged.seeded) ?? {}) as JsonObject;
        const poison = { polluted: 'yes' };
        const marked = (path: FieldPath) =>
          JSON.stringify(withValue(base, [...path, '__marker__'], poison));
        const nested = route.bodySchema ? objectPathsOf(route.bodySchema).slice(1) : [];
        const bodies = [
          marked([]).replace('"__marker__"', '"__proto__"'),
          marked([]).replace('"__marker__"', '"\\u005f\\u005fproto\\u005f\\u005f"'),
          JSON.stringify({ ...base, constructor: { prototype: poison } }),
          marked([]).replace('"__marker__"', '"constructor"').replace('"polluted"', '"prototype"'),
          ...nested.map((path) => marked(path).replace('"__marker__"', '"__proto__"')),
        ];
        for (const raw of bodies) {
          verdicts.expect(raw.slice(0, 80), await arranged.send(route, { raw }), 'invalid_json');
        }
        verdicts.assertNone();
        await assertStillServing(arranged);
      });

      test('a cross-origin request is refused with 403 forbidden_origin and changes nothing', async (t) => {
        const arranged = await arrange(t, session);
        const verdicts = new Verdicts();
        const body = validBodyFor(route, arranged.seeded);
        const crossOrigin: Array<Record<string, string>> = [
          { origin: 'https://evil.example' },
          { origin: 'null' },
          { origin: 'http://localhost:8080' },
          { origin: 'https://localhost:80' },
          { origin: 'http://portcullis.test.evil.example', host: 'portcullis.test' },
          { 'sec-fetch-site': 'cross-site' },
          {
            'sec-fetch-site': 'cross-site',
            origin: 'http://portcullis.test',
            host: 'portcullis.test',
          },
        ];
        for (const headers of crossOrigin) {
          const response = await arranged.send(route, {
            ...(body === undefined ? {} : { body }),
            headers,
          });
          verdicts.expect(JSON.stringify(headers), response, 'forbidden_origin');
          assert.equal(response.cookies.length, 0, 'a refused request set a cookie');
        }
        verdicts.assertNone();
        await assertStillServing(arranged);

        // The same request from the page's own origin is not refused for its origin.
        const sameOrigin = await arranged.send(route, {
          ...(body === undefined ? {} : { body: validBodyFor(route, arranged.seeded) ?? {} }),
          headers: {
            host: 'portcullis.test',
            origin: 'http://portcullis.test',
            'sec-fetch-site': 'same-origin',
          },
        });
        assert.equal(serverFault(sameOrigin), null);
        assert.notEqual(errorBodyOf(sameOrigin)?.error, 'forbidden_origin', shown(sameOrigin));
      });

      if (!route.bodySchema) return;
      const schema = route.bodySchema;
      const base = exampleOf(schema);

      test('a wrong type in any field is refused with 400 invalid_request, nothing coerced', async (t) => {
        const arranged = await arrange(t, session);
        const verdicts = new Verdicts();
        for (const field of fieldsOf(schema)) {
          for (const value of wrongValuesFor(field.schema)) {
            const response = await arranged.send(route, {
              body: withValue(base, field.path, value),
            });
            verdicts.expect(
              `${pointer(field.path)} = ${JSON.stringify(value)}`,
              response,
              'invalid_request',
              `body${pointer(field.path)}`,
            );
          }
        }
        verdicts.assertNone();
        await assertStillServing(arranged);
      });

      test('a missing required field or a body that is not an object is refused with 400 invalid_request', async (t) => {
        const arranged = await arrange(t, session);
        const verdicts = new Verdicts();
        for (const field of fieldsOf(schema).filter((f) => f.required)) {
          if (valueAt(base, field.path.slice(0, -1)) === undefined) continue;
          const response = await arranged.send(route, { body: without(base, field.path) });
          verdicts.expect(
            `without ${pointer(field.path)}`,
            response,
            'invalid_request',
            `body${pointer(field.path.slice(0, -1))}`,
          );
        }
        // Where every field is optional, no body at all is read as {} (emptyBodyAsObject), and
        // so is a JSON null; where a field is required, both are refused like {}.
        const someRequired = (schema.required?.length ?? 0) > 0;
        const notObjects: Json[] = [
          [],
          [base],
          'text',
          42,
          true,
          ...(someRequired ? [{}, null] : []),
        ];
        for (const body of notObjects) {
          verdicts.expect(
            JSON.stringify(body),
            await arranged.send(route, { body }),
            'invalid_request',
            'body',
          );
        }
        if (someRequired) {
          verdicts.expect(
            'no body at all',
            await arranged.send(route, {}),
            'invalid_request',
            'body',
          );
        }
        verdicts.assertNone();
        await assertStillServing(arranged);
      });

      test('a string longer or shorter than the schema allows is refused with 400 invalid_request', async (t) => {
        const arranged = await arrange(t, session);
        const verdicts = new Verdicts();
        const strings = fieldsOf(schema).filter(
          (f) => f.schema.type === 'string' && !isEnumerated(f.schema),
        );
        assert.ok(
          strings.every((f) => f.schema.maxLength !== undefined),
          'a string field has no maxLength',
        );
        for (const field of strings) {
          const { maxLength = 0, minLength = 0 } = field.schema;
          const values: Array<[string, string]> = [
            [`${maxLength + 1} characters`, 'a'.repeat(maxLength + 1)],
            [`${maxLength + 1} emoji`, '😀'.repeat(maxLength + 1)],
            ['15000 characters', 'a'.repeat(15_000)],
            ...(minLength > 0 ? ([['empty', '']] as Array<[string, string]>) : []),
          ];
          for (const [what, value] of values) {
            const body = withValue(base, field.path, value);
            const response = await arranged.send(route, { body });
            const code =
              Buffer.byteLength(JSON.stringify(body)) > REQUEST_BODY_MAX_BYTES
                ? 'payload_too_large'
                : 'invalid_request';
            verdicts.expect(
              `${pointer(field.path)}: ${what}`,
              response,
              code,
              code === 'invalid_request' ? `body${pointer(field.path)}` : undefined,
            );
          }
        }
        verdicts.assertNone();
        await assertStillServing(arranged);
      });

      test('an unknown field at any level is refused with 400 invalid_request', async (t) => {
        const arranged = await arrange(t, session);
        const verdicts = new Verdicts();
        for (const path of objectPathsOf(schema)) {
          for (const name of ['unexpected', 'isAdmin', 'role_id', '']) {
            const response = await arranged.send(route, {
              body: withValue(base, [...path, name], true),
            });
            verdicts.expect(
              `${pointer(path)}/${name}`,
              response,
              'invalid_request',
              `body${pointer(path)}`,
            );
          }
        }
        const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, 1]));
        const response = await arranged.send(route, { body: { ...(base as JsonObject), ...many } });
        verdicts.expect('1000 unknown fields', response, 'invalid_request', 'body');
        verdicts.assertNone();
        await assertStillServing(arranged);
      });

      // PostgreSQL text cannot hold U+0000; a lone surrogate is not UTF-8. Either must be refused
      // (or cleaned) as client input, never reach the database as a query parameter.
      test('text the database cannot store (a NUL byte, lone surrogates) gets a 4xx, never a 5xx', async (t) => {
        const arranged = await arrange(t, session);
        const verdicts = new Verdicts();
        const strings = fieldsOf(schema).filter(
          (f) => f.schema.type === 'string' && !isEnumerated(f.schema),
        );
        for (const field of strings) {
          for (const value of ['\u0000', 'a\u0000b', '\ud800', 'x\udfffy']) {
            const valid = validBodyFor(route, arranged.seeded) ?? base;
            const original = valueAt(valid, field.path);
            const body = withValue(
              valid,
              field.path,
              `${typeof original === 'string' ? original : ''}${value}`,
            );
            verdicts.expectNoServerFault(
              `${pointer(field.path)} + ${JSON.stringify(value)}`,
              await arranged.send(route, { body }),
            );
          }
        }
        verdicts.assertNone();
        await assertStillServing(arranged);
      });
    });
  }
});

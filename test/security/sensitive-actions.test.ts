import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ACTIONS_WITHOUT_STEP_UP,
  SENSITIVE_ACTION_NAMES,
  SENSITIVE_ACTIONS,
  sensitiveActionOf,
} from '../../src/core/sensitive-actions.ts';
import {
  PUBLIC_ROUTES,
  RecoveryCodes,
  apiRoutes,
  callRoute,
  factorFingerprint,
  harmfulBody,
  orgFingerprint,
  recoveryVerification,
  routeKey,
  signedIn,
} from './attack-helpers.ts';
import { ADMIN, Service } from './harness.ts';

/*
 * What a stolen fully signed-in admin session can do without the second factor. Every
 * state-changing route the server lists is declared in src/core/sensitive-actions.ts, either as
 * sensitive or, with its reason, as not; and every sensitive one, called with a harmful body and
 * no verification, answers 403 verification_required naming its declared action and changes
 * nothing. The actions the routes name are the declared ones, all of them, and the code asks for
 * a step-up under no other name.
 */

const SENSITIVE_ROUTES = new Set<string>(
  SENSITIVE_ACTION_NAMES.flatMap((name) => SENSITIVE_ACTIONS[name].routes),
);

test('every state-changing route is declared, and each sensitive one asks for a step-up', async (t) => {
  const service = await Service.start(t, { env: { PORTCULLIS_SSO_ALLOW_LOOPBACK: 'true' } });
  const admin = await service.admin();
  await service.setPolicy(admin, 'enabled');
  const codes = new RecoveryCodes((await admin.enrollTotp()).recoveryCodes);
  const member = await service.createUser(admin);
  await (await signedIn(service, member, 'authenticated')).enrollTotp();
  const sso = await admin.put('/org/sso', {
    issuer: 'http://127.0.0.1:9/idp',
    client_id: 'portcullis',
    client_secret: 'a client secret',
    allowed_domains: ['acme.test'],
    create_users: false,
    verification: recoveryVerification(codes),
  });
  assert.equal(sso.status, 204, await sso.clone().text());
  service.secrets.add('a client secret');
  const registered = await admin.post('/org/apps', {
    name: 'Wiki',
    redirect_uris: ['https://wiki.acme.test/callback'],
    verification: recoveryVerification(codes),
  });
  assert.equal(registered.status, 201, await registered.clone().text());
  const { client_id, client_secret } = (await registered.json()) as Record<string, string>;
  service.secrets.add(client_secret!);

  const routes = await apiRoutes(service);
  const changing = routes.filter(
    (route) => route.method !== 'GET' && !PUBLIC_ROUTES.has(routeKey(route)),
  );

  await t.test('the declaration and the server list the same routes', () => {
    const undeclared = changing
      .map(routeKey)
      .filter((key) => !SENSITIVE_ROUTES.has(key) && !(key in ACTIONS_WITHOUT_STEP_UP));
    assert.deepEqual(undeclared, [], 'declare each in src/core/sensitive-actions.ts');
    const served = new Set(routes.map(routeKey));
    const stale = [...SENSITIVE_ROUTES, ...Object.keys(ACTIONS_WITHOUT_STEP_UP)].filter(
      (key) => !served.has(key),
    );
    assert.deepEqual(stale, [], 'declared routes the server does not have');
  });

  await t.test(
    'each sensitive action without a verification is refused, names its action, and changes nothing',
    async () => {
      const orgBefore = await orgFingerprint(admin);
      const factorsBefore = await factorFingerprint(admin);
      const values = { id: member.id, method: 'totp', client_id: client_id! };
      const sensitive = changing.filter((route) => SENSITIVE_ROUTES.has(routeKey(route)));
      assert.ok(sensitive.length >= 11, `only ${sensitive.length} sensitive routes`);
      const named = new Set<string>();
      for (const route of sensitive) {
        const response = await callRoute(admin, route, values, harmfulBody(route, ADMIN));
        const body = (await response.json()) as { error?: string; action?: string };
        assert.deepEqual(
          [response.status, body.error, body.action],
          [403, 'verification_required', sensitiveActionOf(routeKey(route))],
          `${routeKey(route)} answered ${response.status} ${body.error} ${body.action}`,
        );
        named.add(body.action!);
      }
      // Every declared action is asked for by a route, and no route asks under another name.
      assert.deepEqual([...named].sort(), [...SENSITIVE_ACTION_NAMES].sort());
      assert.equal(await orgFingerprint(admin), orgBefore);
      assert.equal(await factorFingerprint(admin), factorsBefore);
    },
  );
});

/** Every `.ts` file under a folder. */
function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(folder, file));
}

test('the code asks for a step-up only under declared action names, and for every one of them', () => {
  const asked: string[] = [];
  for (const file of sourceFiles('src')) {
    const text = readFileSync(file, 'utf8');
    // A call spells its arguments out: deps, the transaction, the context, then the action.
    for (const call of text.matchAll(/checkStepUp\(\s*\w+,\s*\w+,\s*\w+,\s*([^,\s]+)/g)) {
      asked.push(`${file}: ${call[1]}`);
    }
  }
  const literal = /^'([a-z_]+)'$/;
  const notLiteral = asked.filter((entry) => !literal.test(entry.split(': ')[1]!));
  assert.deepEqual(notLiteral, [], 'name the action where checkStepUp is called');
  const names = new Set(asked.map((entry) => entry.split(': ')[1]!.replace(literal, '$1')));
  assert.deepEqual([...names].sort(), [...SENSITIVE_ACTION_NAMES].sort());
});

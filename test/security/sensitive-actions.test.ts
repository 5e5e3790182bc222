import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACTIONS_WITHOUT_STEP_UP, SENSITIVE_ACTIONS } from '../../src/core/sensitive-actions.ts';
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
 * no verification, answers 403 verification_required and changes nothing.
 */

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

  const routes = await apiRoutes(service);
  const changing = routes.filter(
    (route) => route.method !== 'GET' && !PUBLIC_ROUTES.has(routeKey(route)),
  );

  await t.test('the declaration and the server list the same routes', () => {
    const undeclared = changing
      .map(routeKey)
      .filter((key) => !(key in SENSITIVE_ACTIONS) && !(key in ACTIONS_WITHOUT_STEP_UP));
    assert.deepEqual(undeclared, [], 'declare each in src/core/sensitive-actions.ts');
    const served = new Set(routes.map(routeKey));
    const stale = [
      ...Object.keys(SENSITIVE_ACTIONS),
      ...Object.keys(ACTIONS_WITHOUT_STEP_UP),
    ].filter((key) => !served.has(key));
    assert.deepEqual(stale, [], 'declared routes the server does not have');
  });

  await t.test(
    'each sensitive action without a verification is refused and changes nothing',
    async () => {
      const orgBefore = await orgFingerprint(admin);
      const factorsBefore = await factorFingerprint(admin);
      const values = { id: member.id, method: 'totp' };
      const sensitive = changing.filter((route) => routeKey(route) in SENSITIVE_ACTIONS);
      assert.ok(sensitive.length >= 11, `only ${sensitive.length} sensitive routes`);
      for (const route of sensitive) {
        const response = await callRoute(admin, route, values, harmfulBody(route, ADMIN));
        const body = (await response.json()) as { error?: string };
        assert.deepEqual(
          [response.status, body.error],
          [403, 'verification_required'],
          `${routeKey(route)} answered ${response.status} ${body.error}`,
        );
      }
      assert.equal(await orgFingerprint(admin), orgBefore);
      assert.equal(await factorFingerprint(admin), factorsBefore);
    },
  );
});

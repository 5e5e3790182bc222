import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import {
  RecoveryCodes,
  apiRoutes,
  callRoute,
  createOrg,
  errorOf,
  factorFingerprint,
  harmfulBody,
  orgFingerprint,
  recoveryVerification,
  routeKey,
  signedIn,
  type Route,
  OTHER_ADMIN,
  OTHER_ORG,
} from './attack-helpers.ts';
import { ADMIN, Service, type Client } from './harness.ts';

/*
 * Cross-org access: every route that takes an id (read from the server's OpenAPI document) is
 * called by the admin of one org with the ids of the other org's users, with and without a valid
 * step-up. Each answers exactly what an id that exists nowhere answers, 404 not_found, and the
 * other org is unchanged. Ids in query strings find nothing either.
 */

/**
 * Path parameters that name no user of an org: the method of a factor, an org's public slug, an
 * app's client id (another org's apps are unknown to an admin:
 * test/integration/provider/apps.test.ts).
 */
const NOT_IDS = new Set(['method', 'org', 'client_id']);

test('cross-org access', async (t) => {
  const service = await Service.start(t);
  await createOrg(service, OTHER_ORG, OTHER_ADMIN);

  /** An org's admin, enrolled, a TOTP member, a second admin; all fully signed in. */
  const populate = async (adminClient: Client, org: string) => {
    await service.setPolicy(adminClient, 'enabled');
    const codes = new RecoveryCodes((await adminClient.enrollTotp()).recoveryCodes);
    const member = await service.createUser(adminClient);
    const memberClient = await signedIn(service, member, 'authenticated', org);
    await memberClient.enrollTotp();
    const secondAdmin = await service.createUser(adminClient, {
      role: 'admin',
      verification: recoveryVerification(codes),
    });
    return { admin: adminClient, codes, member, memberClient, secondAdmin };
  };
  const acme = await populate(await service.admin(), service.org);
  const globexAdmin = service.client();
  const signIn = await globexAdmin.signIn(OTHER_ADMIN.email, OTHER_ADMIN.password, OTHER_ORG);
  assert.equal(signIn.status, 200);
  const globex = await populate(globexAdmin, OTHER_ORG);

  const idRoutes = (await apiRoutes(service)).filter((route) =>
    [...route.path.matchAll(/\{([^}]+)\}/g)].some(([, name]) => !NOT_IDS.has(name!)),
  );
  assert.ok(idRoutes.length >= 2, `only ${idRoutes.length} id-bearing routes`);
  t.diagnostic(`id-bearing routes: ${idRoutes.map(routeKey).join(', ')}`);

  const call = (
    client: Client,
    route: Route,
    id: string,
    verification?: { method: string; code: string },
  ) => {
    const base = harmfulBody(route, { password: '' });
    const body =
      verification && base && typeof base === 'object' ? { ...base, verification } : base;
    return callRoute(client, route, { id, client_id: id, method: 'totp', org: service.org }, body);
  };
  const answerOf = async (response: Response) => `${response.status} ${await response.text()}`;

  const attack = async (
    attacker: typeof acme,
    victims: typeof globex,
    victimClient: Client,
  ): Promise<number> => {
    const before = `${await orgFingerprint(victims.admin)}\n${await factorFingerprint(victimClient)}`;
    const ids = [victims.member.id, victims.secondAdmin.id];
    const answers: string[] = [];
    const expected: string[] = [];
    for (const route of idRoutes) {
      const unknown = await answerOf(await call(attacker.admin, route, randomUUID()));
      assert.match(unknown, /^404 .*"not_found"/, `${routeKey(route)} with an unknown id`);
      for (const id of ids) {
        for (const verification of [undefined, recoveryVerification(attacker.codes)]) {
          const answer = await answerOf(await call(attacker.admin, route, id, verification));
          const label = `${routeKey(route)} ${verification ? 'with' : 'without'} step-up`;
          answers.push(`${label} → ${answer}`);
          expected.push(`${label} → ${unknown}`);
        }
      }
    }
    assert.deepEqual(answers, expected);
    const after = `${await orgFingerprint(victims.admin)}\n${await factorFingerprint(victimClient)}`;
    assert.equal(after, before, 'the other org changed');
    return answers.length;
  };

  await t.test(
    'an acme admin reaches no globex user through any id-bearing route: each answers like an unknown id',
    async () => {
      const tried = await attack(acme, globex, globex.memberClient);
      t.diagnostic(`acme → globex: ${tried} requests`);
    },
  );

  await t.test(
    'a globex admin reaches no acme user through any id-bearing route: each answers like an unknown id',
    async () => {
      const tried = await attack(globex, acme, acme.memberClient);
      t.diagnostic(`globex → acme: ${tried} requests`);
    },
  );

  await t.test('the same routes do reach a user of the admin’s own org', async () => {
    // Without this, a route that answered 404 to everything would pass the tests above.
    for (const route of idRoutes) {
      const { status, error } = await errorOf(await call(acme.admin, route, acme.member.id));
      assert.ok(
        !(status === 404 && error === 'not_found'),
        `${routeKey(route)} does not find a user of its own org`,
      );
    }
  });

  await t.test('ids in query strings find nothing in the other org', async () => {
    const events = async (admin: Client, userId: string) => {
      const response = await admin.get(`/org/audit?user=${userId}`);
      assert.equal(response.status, 200);
      return ((await response.json()) as { events: unknown[] }).events.length;
    };
    assert.ok((await events(acme.admin, acme.member.id)) > 0, 'own users have audit events');
    assert.equal(await events(acme.admin, globex.member.id), 0);
    assert.equal(await events(globex.admin, acme.member.id), 0);
    const listed = async (admin: Client) =>
      (
        (await (await admin.get('/org/users?limit=100')).json()) as { users: { id: string }[] }
      ).users.map((user) => user.id);
    const acmeIds = await listed(acme.admin);
    const globexIds = await listed(globex.admin);
    assert.ok(acmeIds.includes(acme.member.id) && globexIds.includes(globex.member.id));
    assert.deepEqual(
      acmeIds.filter((id) => globexIds.includes(id)),
      [],
      'a user is listed in both orgs',
    );
  });

  await t.test('an account of one org does not sign in to the other', async () => {
    const attempts = [
      { org: OTHER_ORG, email: ADMIN.email, password: ADMIN.password },
      { org: service.org, email: OTHER_ADMIN.email, password: OTHER_ADMIN.password },
    ];
    for (const body of attempts) {
      const response = await service.client().post('/auth/login', body);
      assert.deepEqual(await errorOf(response), { status: 401, error: 'invalid_credentials' });
    }
  });
});

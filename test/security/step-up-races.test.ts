import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Service, skipWithoutPostgres, type Client } from './harness.ts';
import {
  assertOnlyKinds,
  burst,
  show,
  successes,
  tally,
  type Answer,
  type Member,
} from './load-helpers.ts';
import type { Authenticator } from '../helpers/authenticator.ts';

/*
 * Step-up races: one user sends the same step-up code with 32 sensitive actions at once (their
 * password, recovery codes and methods, and admin actions on the org and on a member), on copies
 * of one session. Each code lets exactly one action through; every other request is refused with
 * a 4xx and none with a 5xx (two of these transactions once deadlocked each other into a 500).
 */

const PARALLEL = 32;

type Verification = { method: 'totp' | 'recovery_code' | 'email'; code: string };
type Actor = Member & { client: Client; authenticator: Authenticator; recoveryCodes: string[] };
type Setup = { service: Service; auditor: Client; target: Member; instances: number };

/** Every kind of answer a losing request may get, besides the one success. */
const REFUSALS = [
  '401 invalid_code',
  // The password change won: it replaced the session token these copies carry.
  '401 unauthenticated',
  '429 too_many_attempts',
  // The email setup is throttled to one send per 30 s, checked before its step-up.
  '429 rate_limited',
  // The method to disable is not on for this user.
  '409 method_not_enabled',
];

/** The sensitive actions, each with the step-up in its body; the burst cycles through them. */
function sensitiveActions(actor: Actor, target: Member, disable: 'totp' | 'email') {
  return [
    (copy: Client, verification: Verification) =>
      copy.post('/me/password', {
        current_password: actor.password,
        new_password: `${actor.password} changed`,
        verification,
      }),
    (copy: Client, verification: Verification) => copy.post('/me/recovery-codes', { verification }),
    (copy: Client, verification: Verification) =>
      copy.post(`/me/mfa/${disable}/disable`, { verification }),
    (copy: Client, verification: Verification) =>
      copy.post('/me/mfa/email/setup', { verification }),
    (copy: Client, verification: Verification) => copy.post('/me/mfa/totp/setup', { verification }),
    (copy: Client, verification: Verification) =>
      copy.post(`/org/users/${target.id}/mfa/reset`, { verification }),
    (copy: Client, verification: Verification) =>
      copy.put('/org/mfa/methods', { totp: true, email: true, verification }),
  ];
}

/** How many audit events of this type name the user, as an admin reads them. */
async function auditCount(auditor: Client, type: string, userId: string): Promise<number> {
  const response = await auditor.get(`/org/audit?type=${type}&user=${userId}&limit=100`);
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { events: unknown[] }).events.length;
}

/**
 * PARALLEL sensitive actions at once, all carrying one valid code, on copies of the actor's
 * session (alternating instances): no 5xx, exactly one success, and the code was accepted once
 * and judged wrong once per 401 invalid_code, by the audit log.
 */
async function oneActionPerCode(
  { service, auditor, target, instances }: Setup,
  actor: Actor,
  verification: Verification,
  disable: 'totp' | 'email',
) {
  service.secrets.add(`${actor.password} changed`);
  const verifiedBefore = await auditCount(auditor, 'mfa.verified', actor.id);
  const failedBefore = await auditCount(auditor, 'mfa.verification_failed', actor.id);
  const actions = sensitiveActions(actor, target, disable);
  const answers: Answer[] = await burst(
    Array.from({ length: PARALLEL }, (_, i) => {
      const copy = actor.client.on(i % instances);
      return () => actions[i % actions.length]!(copy, verification);
    }),
  );
  const errors = answers.filter((a) => a.status >= 500);
  assert.equal(errors.length, 0, `no 5xx: ${show(answers)}`);
  assert.equal(successes(answers), 1, `exactly one action went through: ${show(answers)}`);
  assertOnlyKinds(answers, ['200', '202', '204', ...REFUSALS]);
  assert.equal(await auditCount(auditor, 'mfa.verified', actor.id), verifiedBefore + 1);
  assert.equal(
    await auditCount(auditor, 'mfa.verification_failed', actor.id),
    failedBefore + (tally(answers)['401 invalid_code'] ?? 0),
  );
}

/** Signs in a member (no factor yet, so fully signed in under "enabled"). */
async function signedIn(service: Service, member: Member): Promise<Client> {
  const client = service.client();
  const response = await client.signIn(member.email, member.password);
  assert.equal(response.status, 200, await response.clone().text());
  return client;
}

/** Turns on emailed codes, stepping up with `verification` when the user already has a method. */
async function enrollEmail(
  service: Service,
  client: Client,
  member: Member,
  verification?: Verification,
) {
  const seen = service.mailCount(member.email);
  const setup = await client.post('/me/mfa/email/setup', verification ? { verification } : {});
  assert.equal(setup.status, 202, await setup.clone().text());
  const code = await service.emailedCode(member.email, seen);
  const confirmed = await client.post('/me/mfa/email/confirm', { code });
  assert.equal(confirmed.status, 200, await confirmed.clone().text());
}

/** A step-up code emailed to the user for this session. */
async function emailedStepUpCode(service: Service, client: Client, member: Member) {
  const seen = service.mailCount(member.email);
  const sent = await client.post('/auth/verification/email', {});
  assert.equal(sent.status, 202, await sent.clone().text());
  return service.emailedCode(member.email, seen);
}

/** An admin with the authenticator app and emailed codes, emails first (the TOTP setup steps up). */
async function emailThenTotp(service: Service, member: Member): Promise<Actor> {
  const client = await signedIn(service, member);
  await enrollEmail(service, client, member);
  const code = await emailedStepUpCode(service, client, member);
  const totp = await client.enrollTotp({ method: 'email', code });
  return {
    ...member,
    client,
    authenticator: totp.authenticator,
    recoveryCodes: totp.recoveryCodes,
  };
}

/** An admin with the authenticator app only, or then emailed codes too (that setup steps up). */
async function totpFirst(service: Service, member: Member, withEmail: boolean): Promise<Actor> {
  const client = await signedIn(service, member);
  const totp = await client.enrollTotp();
  if (withEmail) {
    const code = await totp.authenticator.nextCode();
    await enrollEmail(service, client, member, { method: 'totp', code });
  }
  return {
    ...member,
    client,
    authenticator: totp.authenticator,
    recoveryCodes: totp.recoveryCodes,
  };
}

async function runScenarios(t: TestContext, service: Service, instances: number) {
  const admin = await service.admin();
  // Everyone is created while MFA is off: the first admin then has to enroll before acting.
  const [target, auditorAccount, totpAdmin, recoveryAdmin, emailAdmin] = [
    await service.createUser(admin),
    await service.createUser(admin, { role: 'admin' }),
    await service.createUser(admin, { role: 'admin' }),
    await service.createUser(admin, { role: 'admin' }),
    await service.createUser(admin, { role: 'admin' }),
  ];
  await service.setPolicy(admin, 'enabled');
  const auditor = await signedIn(service, auditorAccount);
  const setup = { service, auditor, target, instances };

  await t.test(
    'one TOTP code carried by 32 sensitive actions at once lets one through',
    async () => {
      const actor = await emailThenTotp(service, totpAdmin);
      const code = await actor.authenticator.nextCode();
      await oneActionPerCode(setup, actor, { method: 'totp', code }, 'email');
    },
  );

  await t.test(
    'one recovery code carried by 32 sensitive actions at once lets one through',
    async () => {
      const actor = await totpFirst(service, recoveryAdmin, false);
      const code = actor.recoveryCodes[0]!;
      await oneActionPerCode(setup, actor, { method: 'recovery_code', code }, 'email');
    },
  );

  await t.test(
    'one emailed step-up code carried by 32 sensitive actions at once lets one through',
    async () => {
      const actor = await totpFirst(service, emailAdmin, true);
      const code = await emailedStepUpCode(service, actor.client, emailAdmin);
      await oneActionPerCode(setup, actor, { method: 'email', code }, 'totp');
    },
  );

  for (let i = 0; i < instances; i += 1) {
    assert.equal((await fetch(`${service.url(i)}/healthz`)).status, 200);
  }
}

test('against one instance, a step-up code serves exactly one of 32 parallel sensitive actions, without a 5xx', async (t) => {
  const service = await Service.start(t);
  await runScenarios(t, service, 1);
});

test('against two instances on one PostgreSQL, a step-up code serves exactly one of 32 parallel sensitive actions, without a 5xx', async (t) => {
  if (skipWithoutPostgres(t)) return;
  const service = await Service.start(t, { instances: 2 });
  await runScenarios(t, service, 2);
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { Authenticator } from '../helpers/authenticator.ts';
import {
  RecoveryCodes,
  apiRoutes,
  codeMailCount,
  enrollEmail,
  fillPath,
  nextEmailedCode,
  recoveryVerification,
  resetTokenFor,
  signedIn,
} from './attack-helpers.ts';
import { ADMIN, Service, type Client } from './harness.ts';

/*
 * Secrets stay secret: once shown (a TOTP secret at setup, recovery codes when made), no answer
 * ever holds them again, whoever asks and whatever GET they send; and nothing the servers print,
 * at the most verbose log level, holds a password, code, token, secret or cookie. A full life
 * cycle runs first so that there are many secrets of every kind to look for.
 */

/** Routes that are not in the OpenAPI document but answer GETs all the same. */
const HIDDEN_GETS = ['/healthz', '/readyz', '/metrics', '/api/v1/openapi.json', '/'];

/** Every way a secret could be written in an answer: as shown, in either case, without dashes. */
function formsOf(secret: string): RegExp[] {
  const forms = new Set([
    secret,
    secret.toLowerCase(),
    secret.toUpperCase(),
    secret.replaceAll('-', ''),
  ]);
  return [...forms].map((form) => {
    const escaped = form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // A 6-digit code counts only where it stands alone, not inside a longer number or an id.
    return /^\d+$/.test(form)
      ? new RegExp(`(?<![0-9A-Za-z.])${escaped}(?![0-9A-Za-z])`)
      : new RegExp(escaped, 'i');
  });
}

test('secrets never leave the server again', async (t) => {
  // The metrics are searched too: they answer only with the operator's token.
  const metricsToken = randomBytes(32).toString('hex');
  const service = await Service.start(t, {
    env: { LOG_LEVEL: 'trace', PORTCULLIS_METRICS_TOKEN: metricsToken },
  });
  service.secrets.add(metricsToken);
  /** The secrets shown once, which no later answer may hold (cookies are expected in headers). */
  const shownOnce = new Set<string>();
  const keep = (...values: string[]) => {
    for (const value of values) {
      shownOnce.add(value);
      service.secrets.add(value);
    }
  };

  const admin = await service.admin();
  await service.setPolicy(admin, 'enabled');
  const adminTotp = await admin.enrollTotp();
  keep(adminTotp.secret, ...adminTotp.recoveryCodes);
  const firstAdminCodes = new RecoveryCodes(adminTotp.recoveryCodes);
  const adminEmailCodes = await enrollEmail(
    service,
    admin,
    ADMIN.email,
    recoveryVerification(firstAdminCodes),
  );
  keep(...adminEmailCodes);
  const adminCodes = new RecoveryCodes(adminEmailCodes);

  /** One user through every flow that handles a secret. */
  const lifeCycle = async () => {
    const account = await service.createUser(admin);
    keep(account.password);
    const full = await signedIn(service, account, 'authenticated');
    const totp = await full.enrollTotp();
    keep(totp.secret, ...totp.recoveryCodes);
    const emailCodes = await enrollEmail(service, full, account.email, {
      method: 'recovery_code',
      code: totp.recoveryCodes[0],
    });
    keep(...emailCodes);
    let codes = new RecoveryCodes(emailCodes);

    // Sign in with each method.
    const byEmail = await signedIn(service, account, 'mfa_required');
    const seen = codeMailCount(service, account.email);
    assert.equal((await byEmail.post('/auth/verification/email')).status, 202);
    const emailCode = await nextEmailedCode(service, account.email, seen);
    keep(emailCode);
    assert.equal((await byEmail.verify('email', emailCode)).status, 200);
    const byRecovery = await signedIn(service, account, 'mfa_required');
    assert.equal((await byRecovery.verify('recovery_code', codes.next())).status, 200);
    const byTotp = await signedIn(service, account, 'mfa_required');
    const totpCode = await totp.authenticator.nextCode();
    keep(totpCode);
    assert.equal((await byTotp.verify('totp', totpCode)).status, 200);

    // A step-up by email makes a new set of recovery codes.
    const stepUpSeen = codeMailCount(service, account.email);
    assert.equal((await byTotp.post('/auth/verification/email')).status, 202);
    const stepUpCode = await nextEmailedCode(service, account.email, stepUpSeen);
    keep(stepUpCode);
    const regenerated = await byTotp.post('/me/recovery-codes', {
      verification: { method: 'email', code: stepUpCode },
    });
    assert.equal(regenerated.status, 200);
    const newSet = ((await regenerated.json()) as { recovery_codes: string[] }).recovery_codes;
    keep(...newSet);
    codes = new RecoveryCodes(newSet);

    // A password change, then a reset by email link.
    const changedPassword = `changed ${account.password}`;
    keep(changedPassword);
    const changed = await byTotp.post('/me/password', {
      current_password: account.password,
      new_password: changedPassword,
      verification: recoveryVerification(codes),
    });
    assert.equal(changed.status, 204, await changed.clone().text());
    const resetToken = await resetTokenFor(service, account);
    keep(resetToken);
    const resetPassword = `reset ${account.password}`;
    keep(resetPassword);
    const reset = await service.client().post('/auth/password/reset', {
      token: resetToken,
      new_password: resetPassword,
    });
    assert.equal(reset.status, 204);
    const current = { ...account, password: resetPassword };

    // A new authenticator replaces the old one.
    const again = await signedIn(service, current, 'mfa_required');
    assert.equal((await again.verify('recovery_code', codes.next())).status, 200);
    const setup = await again.post('/me/mfa/totp/setup', {
      verification: recoveryVerification(codes),
    });
    assert.equal(setup.status, 200);
    const { secret: newSecret } = (await setup.json()) as { secret: string };
    keep(newSecret);
    const confirmCode = await new Authenticator(newSecret).nextCode();
    keep(confirmCode);
    const confirmed = await again.post('/me/mfa/totp/confirm', { code: confirmCode });
    assert.equal(confirmed.status, 200);
    keep(...((await confirmed.json()) as { recovery_codes: string[] }).recovery_codes);
    return { account: current, full: again };
  };

  const users = [await lifeCycle(), await lifeCycle()];
  const reset = await admin.post(`/org/users/${users[1]!.account.id}/mfa/reset`, {
    verification: recoveryVerification(adminCodes),
  });
  assert.equal(reset.status, 204);
  const replacedSession = await signedIn(service, users[1]!.account, 'authenticated');

  const getRoutes = (await apiRoutes(service)).filter((route) => route.method === 'GET');
  let bodiesSearched = 0;

  /** Every GET, as every given session, with every user id: no answer holds a secret. */
  const walk = async (sessions: { name: string; client: Client | null }[]) => {
    const paths = new Set(HIDDEN_GETS);
    const ids = users.map((user) => user.account.id);
    for (const route of getRoutes) {
      for (const id of ids) {
        paths.add(`/api/v1${fillPath(route.path, { id, client_id: id, org: service.org })}`);
        paths.add(
          `/api/v1${fillPath(route.path, { id, client_id: id, org: service.org })}?user=${id}&limit=100`,
        );
      }
    }
    const patterns = [...shownOnce].map((secret) => ({ secret, forms: formsOf(secret) }));
    const leaks: string[] = [];
    for (const { name, client } of sessions) {
      for (const path of paths) {
        const response = await fetch(`${service.url()}${path}`, {
          redirect: 'manual',
          headers: {
            ...(client?.cookie ? { cookie: `portcullis_session=${client.cookie}` } : {}),
            ...(path === '/metrics' ? { authorization: `Bearer ${metricsToken}` } : {}),
          },
        });
        if (path === '/metrics') assert.equal(response.status, 200, 'the metrics are searched');
        assert.ok(response.status < 500, `${name} GET ${path} → ${response.status}`);
        const text = `${JSON.stringify([...response.headers])}\n${await response.text()}`;
        bodiesSearched += 1;
        for (const { secret, forms } of patterns) {
          if (forms.some((form) => form.test(text)))
            leaks.push(`${name} GET ${path} holds ${secret.slice(0, 4)}…`);
        }
      }
    }
    assert.deepEqual(leaks, []);
  };

  await t.test(
    'no GET answer, to a user, an admin or nobody, holds a TOTP secret or recovery code',
    async () => {
      await walk([
        { name: 'admin', client: admin },
        { name: 'user', client: users[0]!.full },
        { name: 'reset user', client: replacedSession },
        { name: 'anonymous', client: null },
      ]);
    },
  );

  await t.test('after a policy weakening, still no GET answer holds a secret', async () => {
    const seen = codeMailCount(service, ADMIN.email);
    const weaken = await admin.post('/org/mfa/policy/weaken', { policy: 'disabled' });
    assert.equal(weaken.status, 202);
    const { request_id: requestId } = (await weaken.json()) as { request_id: string };
    const code = await nextEmailedCode(service, ADMIN.email, seen);
    keep(code);
    const confirmed = await admin.post('/org/mfa/policy/weaken/confirm', {
      request_id: requestId,
      code,
    });
    assert.equal(confirmed.status, 200);
    const plain = await signedIn(service, users[0]!.account, 'authenticated');
    await walk([
      { name: 'admin', client: admin },
      { name: 'user', client: plain },
    ]);
    t.diagnostic(`${bodiesSearched} answers searched for ${shownOnce.size} secrets`);
  });

  await t.test(
    'the servers, at trace level, printed no password, code, token, secret or cookie',
    async () => {
      // Trace is the most verbose level: a debug or trace line added later that carries a secret
      // fails here, not only the info lines of today.
      const logs = service.logs();
      for (const path of [
        '/api/v1/auth/login',
        '/api/v1/auth/mfa/verify',
        '/api/v1/me/mfa/totp/confirm',
        '/api/v1/me/mfa/email/confirm',
        '/api/v1/me/recovery-codes',
        '/api/v1/me/password',
        '/api/v1/auth/password/reset',
        '/api/v1/org/mfa/policy/weaken/confirm',
      ]) {
        assert.ok(logs.includes(`"url":"${path}"`), `the requests to ${path} were logged`);
      }
      assert.ok(service.secrets.size > 80, `only ${service.secrets.size} secrets handled`);
      service.assertLogsHoldNoSecret();
      t.diagnostic(
        `${service.secrets.size} secrets checked against ${logs.length} characters of logs`,
      );
    },
  );
});

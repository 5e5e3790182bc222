import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { deriveServerKeys } from '../../src/core/secret-box.ts';
import { defaultSessionLifetimes } from '../../src/core/session-rules.ts';
import { createOrgWithAdmin } from '../../src/services/org/accounts.ts';
import { systemClock, type ServiceDeps } from '../../src/services/deps.ts';
import { createPasswordHasher } from '../../src/services/password/hasher.ts';
import { createSsoProviders } from '../../src/services/sso/client.ts';
import { codeIn, codeMailsTo } from '../helpers/smtp.ts';
import type { Client, Service } from './harness.ts';

/*
 * What several attack files share: the API's routes as the server itself lists them, a second org,
 * fresh accounts in a known MFA state, codes read from the inbox, and a fingerprint of what an org
 * looks like from outside, to prove that a refused request changed nothing.
 */

export type Route = { method: string; path: string };

/** Routes anyone may call without a session: no session state is at stake on them. */
export const PUBLIC_ROUTES = new Set([
  'GET /api/v1/setup',
  'POST /api/v1/setup',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/password/forgot',
  'POST /api/v1/auth/password/reset',
  'GET /api/v1/auth/sso/{org}',
  'GET /api/v1/auth/sso/{org}/start',
  'GET /api/v1/auth/sso/callback',
]);

/** Every operation of the server's own OpenAPI document, so that a new route is attacked too. */
export async function apiRoutes(service: Service): Promise<Route[]> {
  const response = await fetch(`${service.url()}/api/v1/openapi.json`);
  assert.equal(response.status, 200);
  const document = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const method of Object.keys(operations))
      routes.push({ method: method.toUpperCase(), path });
  }
  assert.ok(routes.length >= 25, `the OpenAPI document lists only ${routes.length} operations`);
  return routes;
}

export function routeKey(route: Route): string {
  return `${route.method} ${route.path}`;
}

/** The path under /api/v1 with its parameters filled in (an `{id}` by `values.id`, and so on). */
export function fillPath(path: string, values: Record<string, string>): string {
  const filled = path.replace(/\{([^}]+)\}/g, (_whole, name: string) => {
    const value = values[name];
    assert.ok(value !== undefined, `no value for {${name}} in ${path}`);
    return encodeURIComponent(value);
  });
  return filled.replace(/^\/api\/v1/, '');
}

/**
 * A body that would do real harm if the route let it through: an attack that sends `{}` and gets a
 * 400 proves nothing about the guard in front of the route. Routes not listed get `{}`.
 */
export function harmfulBody(route: Route, context: { password: string }): unknown {
  switch (routeKey(route)) {
    case 'POST /api/v1/me/password':
      return { current_password: context.password, new_password: 'taken over passphrase' };
    case 'POST /api/v1/org/users':
      return {
        email: `intruder-${randomBytes(3).toString('hex')}@evil.test`,
        name: 'Intruder',
        role: 'admin',
        password: 'intruder passphrase',
      };
    case 'PUT /api/v1/org/mfa/policy':
      return { policy: 'required', sessions: 'invalidate' };
    case 'POST /api/v1/org/mfa/policy/weaken':
      return { policy: 'disabled' };
    case 'POST /api/v1/org/mfa/policy/weaken/confirm':
      return { request_id: randomUUID(), code: '123456' };
    case 'PUT /api/v1/org/mfa/methods':
      return { totp: false, email: true };
    case 'PUT /api/v1/org/sso':
      return {
        issuer: 'http://127.0.0.1:9/evil',
        client_id: 'evil',
        client_secret: 'evil secret',
        allowed_domains: ['evil.test'],
        create_users: true,
      };
    case 'POST /api/v1/org/apps':
    case 'PUT /api/v1/org/apps/{client_id}':
      return { name: 'Evil', redirect_uris: ['https://evil.test/callback'] };
    case 'POST /api/v1/me/mfa/totp/confirm':
    case 'POST /api/v1/me/mfa/email/confirm':
      return { code: '123456' };
    case 'POST /api/v1/auth/mfa/verify':
      return { method: 'totp', code: '123456' };
    default:
      return route.method === 'GET' ? undefined : {};
  }
}

/** Calls a route the way the walk does: a GET has no body, anything else the given one. */
export function callRoute(
  client: Client,
  route: Route,
  values: Record<string, string>,
  body: unknown,
): Promise<Response> {
  const path = fillPath(route.path, values);
  return route.method === 'GET' ? client.get(path) : client.request(route.method, path, body);
}

/**
 * Creates one more org with its admin, as an operator would (`portcullis org create` runs the same
 * service): PGlite belongs to the running server, so this goes through the harness's database
 * access, with the dependencies the server itself wires.
 */
export async function createOrg(
  service: Service,
  slug: string,
  admin: { email: string; name: string; password: string },
): Promise<void> {
  const key = service.environment.PORTCULLIS_ENCRYPTION_KEY;
  assert.ok(key, 'the service runs with an encryption key');
  service.secrets.add(admin.password);
  const passwords = await createPasswordHasher();
  const result = await service.inspectDatabase(async (db) => {
    const deps: ServiceDeps = {
      db,
      clock: systemClock,
      randomBytes,
      passwords,
      sessionLifetimes: defaultSessionLifetimes,
      keys: deriveServerKeys(Buffer.from(key, 'base64')),
      mailer: { send: async () => true },
      publicUrl: new URL(service.url()),
      ssoProviders: createSsoProviders({ allowLoopback: false }),
    };
    return createOrgWithAdmin(deps, { slug, name: `Org ${slug}`, admin }, null);
  });
  assert.ok(result.ok, `the org was not created: ${JSON.stringify(result)}`);
}

/** Signs in and asserts the session status the server answers. */
export async function signedIn(
  service: Service,
  account: { email: string; password: string },
  status: 'authenticated' | 'mfa_required' | 'enrollment_required',
  org = service.org,
): Promise<Client> {
  const client = service.client();
  const response = await client.signIn(account.email, account.password, org);
  assert.equal(response.status, 200, await response.clone().text());
  assert.equal(((await response.json()) as { status: string }).status, status);
  return client;
}

/** How many verification-code mails the address has had; pass it to `nextEmailedCode`. */
export function codeMailCount(service: Service, address: string): number {
  return codeMailsTo(service.smtp, address).length;
}

/**
 * The code of the next verification-code mail to the address. Unlike `emailedCode` it skips the
 * notifications (method enabled, recovery code used) that may land in between.
 */
export async function nextEmailedCode(
  service: Service,
  address: string,
  seen: number,
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const mails = codeMailsTo(service.smtp, address);
    if (mails.length > seen) {
      const code = codeIn(mails[seen]);
      service.secrets.add(code);
      return code;
    }
    if (Date.now() > deadline) throw new Error(`no code mail to ${address} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Turns the email method on for a fully signed-in user (with a step-up when they have a factor). */
export async function enrollEmail(
  service: Service,
  client: Client,
  address: string,
  verification?: unknown,
): Promise<string[]> {
  const seen = codeMailCount(service, address);
  const setup = await client.post('/me/mfa/email/setup', verification ? { verification } : {});
  assert.equal(setup.status, 202, await setup.clone().text());
  const code = await nextEmailedCode(service, address, seen);
  const confirmed = await client.post('/me/mfa/email/confirm', { code });
  assert.equal(confirmed.status, 200, await confirmed.clone().text());
  const { recovery_codes: codes } = (await confirmed.json()) as { recovery_codes: string[] };
  for (const recoveryCode of codes) service.secrets.add(recoveryCode);
  return codes;
}

/** The code an authenticator shows now, without marking its step used (for shapes built on it). */
export function currentTotpCode(secret: string): string {
  return new OTPAuth.TOTP({
    secret: OTPAuth.Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
  }).generate();
}

/** Takes recovery codes one by one and says when a set runs low. */
export class RecoveryCodes {
  private readonly codes: string[];
  constructor(codes: string[]) {
    this.codes = [...codes];
  }
  next(): string {
    const code = this.codes.shift();
    assert.ok(code, 'a recovery code is left');
    return code;
  }
  /** The first unused code that is `wanted`. */
  nextWhere(wanted: (code: string) => boolean): string {
    const index = this.codes.findIndex(wanted);
    assert.ok(index >= 0, 'a recovery code of the wanted kind is left');
    return this.codes.splice(index, 1)[0]!;
  }
  get left(): number {
    return this.codes.length;
  }
}

/** A step-up verification with the next recovery code (TOTP steps run out within 30 s). */
export function recoveryVerification(codes: RecoveryCodes): { method: string; code: string } {
  return { method: 'recovery_code', code: codes.next() };
}

/** What a session's owner sees of their account: state, methods and codes left. */
export async function meOf(client: Client): Promise<{
  status: number;
  session?: { status: string; aal: number };
  mfa?: { policy: string; methods: { type: string; created_at: string }[] };
  body: Record<string, unknown>;
}> {
  const response = await client.get('/me');
  const body = (await response.json()) as Record<string, unknown>;
  return {
    status: response.status,
    session: body.session as { status: string; aal: number } | undefined,
    mfa: body.mfa as { policy: string; methods: { type: string; created_at: string }[] },
    body,
  };
}

/**
 * The org as its admin sees it: policy, methods, users with their MFA status, SSO settings. Two
 * equal fingerprints around an attack mean the attack changed nothing an admin could see.
 */
export async function orgFingerprint(admin: Client): Promise<string> {
  const parts: unknown[] = [];
  for (const path of ['/org/mfa', '/org/users?limit=100', '/org/sso', '/org/apps']) {
    const response = await admin.get(path);
    assert.ok(response.status === 200 || response.status === 404, `${path}: ${response.status}`);
    parts.push(response.status, await response.json());
  }
  return JSON.stringify(parts);
}

/** A user's own view of their factors, to the second (created_at changes when one is replaced). */
export async function factorFingerprint(client: Client): Promise<string> {
  const me = await meOf(client);
  assert.equal(me.status, 200, JSON.stringify(me.body));
  return JSON.stringify({
    methods: me.mfa?.methods.map(({ type, created_at }) => ({ type, created_at })),
    remaining: (me.body.mfa as { recovery_codes_remaining: number }).recovery_codes_remaining,
  });
}

/** Whether a token still opens a session: GET /me with it alone. */
export async function tokenStatus(service: Service, token: string): Promise<number> {
  const response = await fetch(`${service.url()}/api/v1/me`, {
    headers: { cookie: `portcullis_session=${token}` },
  });
  await response.body?.cancel();
  return response.status;
}

export async function errorOf(response: Response): Promise<{ status: number; error?: string }> {
  const text = await response.text();
  let error: string | undefined;
  try {
    error = (JSON.parse(text) as { error?: string }).error;
  } catch {
    error = undefined;
  }
  return { status: response.status, error };
}

/** Asks for a password reset link for the account and returns the token the mail holds. */
export async function resetTokenFor(
  service: Service,
  account: { email: string },
  org = service.org,
): Promise<string> {
  const resetMails = () =>
    service.smtp.received.filter(
      (mail) =>
        mail.envelope.to.includes(account.email) &&
        (mail.headers.get('subject') ?? '').includes('reset your password'),
    );
  const seen = resetMails().length;
  const forgot = await service
    .client()
    .post('/auth/password/forgot', { org, email: account.email });
  assert.equal(forgot.status, 202);
  const deadline = Date.now() + 15_000;
  while (resetMails().length <= seen) {
    if (Date.now() > deadline) throw new Error(`no reset mail to ${account.email}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const token = /#token=([A-Za-z0-9_-]+)/.exec(resetMails()[seen]?.text ?? '')?.[1];
  assert.ok(token, 'the reset mail holds a link with a token');
  service.secrets.add(token);
  return token;
}

/** The second org that the binding and cross-org attacks create beside the first. */
export const OTHER_ORG = 'globex';
export const OTHER_ADMIN = {
  email: 'gina@globex.test',
  name: 'Gina Admin',
  password: 'globex admin passphrase',
};

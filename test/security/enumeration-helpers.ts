import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Client, Service } from './harness.ts';

/** What the enumeration tests share: fresh addresses nobody has, and accounts without a password. */

export function unknownEmail(): string {
  return `nobody-${randomBytes(4).toString('hex')}@acme.test`;
}

/** An account that signs in through the org's identity provider and so has no password. */
export async function createSsoUser(service: Service, admin: Client): Promise<string> {
  const email = `sso-${randomBytes(4).toString('hex')}@acme.test`;
  const response = await admin.post('/org/users', {
    email,
    name: 'Sam SSO',
    role: 'member',
    sso: true,
  });
  assert.equal(response.status, 201, await response.clone().text());
  return email;
}

/** A JSON POST under /api/v1 without a session. */
export function postAnonymously(service: Service, path: string, body: unknown): Promise<Response> {
  return fetch(`${service.url()}/api/v1${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

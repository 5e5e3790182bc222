import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUDIT_EVENT_TYPES } from '../../src/core/audit-events.ts';
import { EVENT_LABELS, eventLabel } from '../../web/src/screens/admin/audit-format.ts';

// Held by `npm run typecheck`: the label map's type asks for every event type the server writes.
// @ts-expect-error a label map that leaves an event type out is refused
const incomplete: typeof EVENT_LABELS = { 'login.succeeded': 'Signed in' };

test('the console labels every audit event type the server writes, and no other', () => {
  assert.deepEqual(Object.keys(EVENT_LABELS).sort(), [...AUDIT_EVENT_TYPES].sort());
  for (const type of AUDIT_EVENT_TYPES) assert.notEqual(eventLabel(type), type);
});

test('a refused SSO step-up reads as such in the audit log', () => {
  assert.equal(eventLabel('sso.reauthentication_refused'), 'SSO verification refused');
});

test('an event type this console does not know is shown as it is', () => {
  assert.equal(eventLabel('org.renamed'), 'org.renamed');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isSessionAlive,
  shouldTouchSession,
  type SessionTimes,
} from '../../src/core/session-rules.ts';

const start = new Date('2026-01-05T09:00:00Z');
const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);

function session(overrides: Partial<SessionTimes> = {}): SessionTimes {
  return {
    status: 'authenticated',
    createdAt: start,
    lastSeenAt: start,
    orgEpoch: 0,
    currentOrgEpoch: 0,
    userEpoch: 0,
    currentUserEpoch: 0,
    ...overrides,
  };
}

test('a session dies after one hour idle', () => {
  assert.equal(isSessionAlive(session(), at(3599)), true);
  assert.equal(isSessionAlive(session(), at(3600)), false);
});

test('a session dies 24 hours after sign-in even when used all along', () => {
  const busy = session({ lastSeenAt: at(24 * 3600 - 10) });
  assert.equal(isSessionAlive(busy, at(24 * 3600 - 1)), true);
  assert.equal(isSessionAlive(busy, at(24 * 3600)), false);
});

test('a session before its second factor lives 10 minutes', () => {
  const pending = session({ status: 'mfa_required', lastSeenAt: at(590) });
  assert.equal(isSessionAlive(pending, at(599)), true);
  assert.equal(isSessionAlive(pending, at(600)), false);
});

test('an org-wide or user-wide invalidation ends older sessions at once', () => {
  assert.equal(isSessionAlive(session({ currentOrgEpoch: 1 }), at(1)), false);
  assert.equal(isSessionAlive(session({ currentUserEpoch: 1 }), at(1)), false);
  assert.equal(isSessionAlive(session({ orgEpoch: 1, currentOrgEpoch: 1 }), at(1)), true);
});

test('last-seen is written at most once a minute', () => {
  assert.equal(shouldTouchSession(start, at(59)), false);
  assert.equal(shouldTouchSession(start, at(60)), true);
});

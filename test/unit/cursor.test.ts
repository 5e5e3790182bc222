import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCursor, encodeCursor } from '../../src/core/cursor.ts';

const ID = '0b6f2c1e-4d3a-4b5c-9d8e-7f6a5b4c3d2e';

function raw(at: string, id = ID): string {
  return Buffer.from(JSON.stringify([at, id])).toString('base64url');
}

test('a cursor decodes to the time and id it was made from', () => {
  const cursor = { at: new Date('2026-12-04T10:00:00.123Z'), id: ID };
  assert.deepEqual(decodeCursor(encodeCursor(cursor)), cursor);
});

test('a cursor whose time PostgreSQL cannot hold is refused, not sent to the database', () => {
  for (const at of [
    '-271821-04-20T00:00:00.000Z',
    '-004714-01-01T00:00:00.000Z',
    '+275760-09-13T00:00:00.000Z',
    '+010000-01-01T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z',
  ]) {
    assert.equal(new Date(at).toISOString(), at, 'a date JavaScript holds exactly');
    assert.equal(decodeCursor(raw(at)), null, at);
  }
});

test('a cursor with a time in another spelling, or a bad id, is refused', () => {
  for (const value of [
    raw('2026-12-04T10:00:00Z'),
    raw('2026-12-04'),
    raw('2026-12-04T10:00:00.000Z', 'not-a-uuid'),
    Buffer.from('[1,2]').toString('base64url'),
    'not base64 json',
  ]) {
    assert.equal(decodeCursor(value), null, value);
  }
});

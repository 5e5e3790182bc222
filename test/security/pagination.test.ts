import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Service } from './harness.ts';

/*
 * Pagination cursors are opaque to clients but decoded by the server: a forged one carrying a
 * date that JavaScript holds and PostgreSQL does not ("timestamp out of range") must be the
 * client's 400, never the database's 500.
 */

const ID = '0b6f2c1e-4d3a-4b5c-9d8e-7f6a5b4c3d2e';

function forgedCursor(at: string): string {
  return Buffer.from(JSON.stringify([at, ID])).toString('base64url');
}

test('a cursor with a date outside the database range answers 400 invalid_cursor', async (t) => {
  const service = await Service.start(t);
  const admin = await service.admin();
  const dates = [
    '-271821-04-20T00:00:00.000Z',
    '+275760-09-13T00:00:00.000Z',
    '-010000-01-01T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z',
  ];
  for (const path of ['/org/users', '/org/audit']) {
    for (const at of dates) {
      const response = await admin.get(`${path}?cursor=${forgedCursor(at)}`);
      assert.equal(response.status, 400, `${path} ${at}: ${await response.clone().text()}`);
      assert.equal(((await response.json()) as { error: string }).error, 'invalid_cursor');
    }
    const healthy = await admin.get(`${path}?limit=1`);
    assert.equal(healthy.status, 200, 'the list still answers afterwards');
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resvg } from '@resvg/resvg-js';
import jsQRModule from 'jsqr';
import { MEMBER_PASSWORD, createTestApp, seedOrg, signIn, withSession } from '../../helpers/app.ts';
import { useTestStore } from '../../helpers/store.ts';

const store = useTestStore();

// jsqr is CommonJS with an `exports.default`; Node hands the whole module to a default import.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

/** Renders the SVG to pixels and reads it with a QR decoder, as a phone camera would. */
function scan(svg: string): string | null {
  const image = new Resvg(svg, {
    fitTo: { mode: 'width', value: 400 },
    background: '#ffffff',
  }).render();
  const decoded = jsQR(new Uint8ClampedArray(image.pixels), image.width, image.height);
  return decoded?.data ?? null;
}

test('the QR code scans back to the exact otpauth URI, whatever the org and email', async (t) => {
  const { app, deps } = await createTestApp(store);
  t.after(() => app.close());
  const { org, member } = await seedOrg(deps);
  await store.db
    .updateTable('orgs')
    .set({ mfa_policy: 'enabled', name: 'Ächme & Söhne: Zürich' })
    .where('id', '=', org.id)
    .execute();
  const token = await signIn(app, {
    org: org.slug,
    email: member.email,
    password: MEMBER_PASSWORD,
  });
  const setup = await app.inject({
    method: 'POST',
    url: '/api/v1/me/mfa/totp/setup',
    headers: withSession(token),
  });
  const { otpauth_uri, qr_svg } = setup.json();
  assert.ok(
    otpauth_uri.startsWith('otpauth://totp/%C3%84chme%20%26%20S%C3%B6hne%3A%20Z%C3%BCrich:'),
  );
  assert.equal(scan(qr_svg), otpauth_uri);
});

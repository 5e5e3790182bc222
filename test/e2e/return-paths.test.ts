import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Portcullis, launchBrowser, signedInPage, skipWithoutBrowser } from './harness.ts';

/*
 * The console's `next` follows the server's rule for return paths: a spelling that a URL parser
 * turns into another site (`/..//evil.test/` becomes `//evil.test/`) is ignored, and the user
 * lands at home instead of on a broken page.
 */

test('a signed-in admin sent to sign-in with a `next` that parses to another site lands at home', async (t) => {
  if (skipWithoutBrowser(t)) return;
  const portcullis = await Portcullis.start(t);
  const cookie = await portcullis.apiSession();
  const browser = await launchBrowser();
  t.after(() => browser.close());

  // A page of the console is followed: the rule does not simply drop every `next`.
  const { context, page } = await signedInPage(browser, portcullis, cookie);
  await page.goto(`${portcullis.url}/sign-in?next=${encodeURIComponent('/admin/audit')}`);
  await page.waitForURL(`${portcullis.url}/admin/audit`);

  for (const next of ['/..//evil.test/', '/%2e%2e//evil.test/', '/admin/../..//evil.test/']) {
    const errors: string[] = [];
    const onError = (error: Error) => errors.push(error.message);
    page.on('pageerror', onError);
    await page.goto(`${portcullis.url}/sign-in?next=${encodeURIComponent(next)}`);
    await page.waitForURL(`${portcullis.url}/admin/users`, { timeout: 10_000 });
    page.off('pageerror', onError);
    assert.deepEqual(errors, [], `next ${next}`);
  }
  await context.close();
});

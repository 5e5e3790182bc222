import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PHONE,
  Portcullis,
  launchBrowser,
  newPage,
  review,
  skipWithoutBrowser,
} from './harness.ts';

test('the console serves its sign-in page, accessible at phone and desktop widths', async (t) => {
  if (skipWithoutBrowser(t)) return;
  const portcullis = await Portcullis.start(t);
  const browser = await launchBrowser();
  t.after(() => browser.close());
  for (const [name, viewport] of [
    ['desktop', undefined],
    ['phone', PHONE],
  ] as const) {
    const { page } = await newPage(browser, viewport);
    await page.goto(`${portcullis.url}/`);
    await page.waitForURL(/\/sign-in/);
    assert.equal(await page.title(), 'Portcullis');
    await review(page, `smoke-sign-in-${name}`);
  }
});

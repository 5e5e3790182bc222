import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SENSITIVE_ACTION_NAMES } from '../../src/core/sensitive-actions.ts';

/** The names listed as `- \`name\`: …` under the README's paragraph on sensitive actions. */
function readmeSensitiveActions(readme: string): string[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => line.startsWith('A sensitive action answers 403'));
  assert.ok(start >= 0, 'the README has its paragraph on sensitive actions');
  const names: string[] = [];
  let inList = false;
  for (const line of lines.slice(start)) {
    const item = /^- `([a-z_]+)`:/.exec(line);
    if (item) {
      inList = true;
      names.push(item[1]!);
    } else if (inList && !line.startsWith('  ')) {
      break;
    }
  }
  return names;
}

test('the README lists the declared sensitive actions, in their order, and no other', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.deepEqual(readmeSensitiveActions(readme), SENSITIVE_ACTION_NAMES);
});

#!/usr/bin/env node
// Runs the TypeScript CLI on Node 24 or later. Where the machine's node is older, it hands over to
// the Node 24 that the project pins as a devDependency (node_modules/node).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

if (major >= 24) {
  await import(cli);
} else {
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!existsSync(pinned)) {
    process.stderr.write('portcullis: Node.js 24 or later is needed; run `npm install` first\n');
    process.exit(1);
  }
  const result = spawnSync(pinned, [cli, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

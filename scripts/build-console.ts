/**
 * Builds the console (web/ → web/dist) when the build is missing or older than its sources.
 * `npm start` runs it first, so a fresh clone needs no separate build step; `--force` always builds.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = fileURLToPath(new URL('../web', import.meta.url));
const builtIndex = join(web, 'dist', 'index.html');
/** Server modules the console imports too (one rule for both sides). */
const sharedSources = [fileURLToPath(new URL('../src/core', import.meta.url))];

/** The newest file under path (directories' own times move when dist/ is written: ignored). */
function newestSourceMs(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(
    0,
    ...readdirSync(path)
      .filter((name) => name !== 'dist' && name !== 'node_modules')
      .map((name) => newestSourceMs(join(path, name))),
  );
}

export async function buildConsoleIfStale(force = false): Promise<boolean> {
  const newest = Math.max(newestSourceMs(web), ...sharedSources.map(newestSourceMs));
  const stale = !existsSync(builtIndex) || newest > statSync(builtIndex).mtimeMs;
  if (!force && !stale) return false;
  const { build } = await import('vite');
  await build({ configFile: join(web, 'vite.config.ts'), logLevel: 'warn' });
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const built = await buildConsoleIfStale(process.argv.includes('--force'));
  process.stdout.write(built ? 'console built into web/dist\n' : 'console is up to date\n');
}

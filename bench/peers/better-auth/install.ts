import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The peer has its own package.json and lock file, so that its dependencies stay out of the
 * project's. A fresh clone has none of them installed: `npm ci` them once, output shown.
 */
export async function ensurePeerInstalled(
  folder: string,
  log: (line: string) => void,
): Promise<void> {
  if (existsSync(join(folder, 'node_modules', 'better-auth', 'package.json'))) return;
  log(`installing the peer's dependencies: npm ci --prefix ${folder}`);
  // npm's output goes to stderr, so that it shows without mixing into what a caller prints.
  const child = spawn('npm', ['ci', '--prefix', folder], { stdio: ['ignore', 2, 2] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`npm ci --prefix ${folder} failed with exit code ${code}`);
}

export function installedVersion(folder: string, packageName: string): string {
  const manifest = join(folder, 'node_modules', packageName, 'package.json');
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return version;
}

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { childEnv, makeTempDir, removeDir } from '../../helpers/process.ts';
import { allStarted, fileScope } from '../../helpers/scope.ts';

/*
 * What the test helpers promise so that a failing test fails the run instead of hanging it: no
 * server outlives the test process that started it, and a start that fails beside others is
 * reported only once the others have settled (so that each has registered its stop).
 */

const processHelpers = new URL('../../helpers/process.ts', import.meta.url).href;

/** Whether `pid` is a live process (a zombie waiting to be reaped counts as gone). */
function running(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== undefined && state !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

async function endsWithin(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (running(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

test('a server a test process leaves running is killed when that process exits', async (t) => {
  const dataDir = await makeTempDir('portcullis-orphan-');
  let serverPid: number | undefined;
  t.after(async () => {
    if (serverPid !== undefined && running(serverPid)) process.kill(serverPid, 'SIGKILL');
    await removeDir(dataDir);
  });
  // A test process that starts a server and exits without stopping it, as --test-force-exit ends
  // a file whose failed hook never registered the server's stop.
  const script = [
    `import { ServerProcess } from ${JSON.stringify(processHelpers)};`,
    `const server = await ServerProcess.start({ dataDir: ${JSON.stringify(dataDir)} });`,
    'console.log(server.pid);',
    'process.exit(1);',
  ].join('\n');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: childEnv({}),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 1);
  serverPid = Number(stdout.trim());
  assert.ok(Number.isInteger(serverPid) && serverPid > 0, `no server pid in ${stdout}`);
  assert.equal(await endsWithin(serverPid, 5_000), true, 'the server outlived its test process');
});

test('of starts run together, a failure is reported only once the others have settled', async () => {
  const settled: string[] = [];
  const slowServer = sleep(200).then(() => {
    settled.push('server started, its stop registered');
    return 'server';
  });
  const failedBrowser = Promise.reject(new Error('the browser did not start'));
  await assert.rejects(allStarted([slowServer, failedBrowser]), /the browser did not start/);
  assert.deepEqual(settled, ['server started, its stop registered']);

  assert.deepEqual(await allStarted([Promise.resolve(1), sleep(10).then(() => 'two')]), [1, 'two']);
});

const stopped: string[] = [];
describe('a file scope', () => {
  const shared = fileScope();
  test('takes the stops of what the tests share', () => {
    shared.after(() => stopped.push('server'));
    shared.after(async () => {
      await sleep(10);
      stopped.push('browser');
    });
  });
});
test('a file scope runs every stop at the end of its suite, newest first', () => {
  assert.deepEqual(stopped, ['browser', 'server']);
});

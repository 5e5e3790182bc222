import type { PortcullisServer } from '../lib/server.ts';
import type { Tally } from './client.ts';
import { REPORT_EVERY_MS } from './settings.ts';

/** What the soak prints: requests, errors and each server's resident memory (A, B). */

/** Resident bytes of each server; one that has exited reads 0 rather than ending the soak. */
export function readRss(servers: PortcullisServer[]): Promise<number[]> {
  return Promise.all(servers.map((server) => server.rssBytes().catch(() => 0)));
}

export function formatRss(values: number[]): string {
  return values.map((value, i) => `${serverName(i)} ${mb(value)}`).join(', ');
}

/**
 * Every REPORT_EVERY_MS, a line of requests, errors and memory. The first 30 s fill the JIT
 * caches, connection pools and heaps: `warm()`, the memory at the first line, is the baseline
 * against which growth would show a leak.
 */
export function startPeriodicReport(servers: PortcullisServer[], tally: Tally, began: number) {
  let warm: number[] | undefined;
  const timer = setInterval(async () => {
    const seconds = Math.round((Date.now() - began) / 1000);
    const rss = await readRss(servers);
    warm ??= rss;
    console.log(
      `${String(seconds).padStart(4)}s  requests ${tally.requests}  errors ${tally.errors}  rss ${formatRss(rss)}`,
    );
  }, REPORT_EVERY_MS);
  return { warm: () => warm, stop: () => clearInterval(timer) };
}

export function printSummary(
  tally: Tally,
  seconds: number,
  rss: { start: number[]; warm: number[] | undefined; end: number[] },
): void {
  console.log(`\ntotal: ${tally.requests} requests in ${seconds.toFixed(0)} s`);
  console.log(`  (${(tally.requests / seconds).toFixed(1)}/s), errors ${tally.errors}`);
  for (const [operation, count] of [...tally.byOperation].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${operation.padEnd(22)} ${count}`);
  }
  rss.end.forEach((value, i) => {
    const first = rss.start[i]!;
    const settled = rss.warm?.[i] ?? first;
    console.log(
      `rss ${serverName(i)}: ${mb(first)} → ${mb(value)} (${signed(value - first)}; ${signed(value - settled)} since 30 s)`,
    );
  });
  for (const sample of tally.samples) console.log(`error: ${sample}`);
}

function serverName(index: number): string {
  return 'AB'[index]!;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function signed(bytes: number): string {
  return `${bytes >= 0 ? '+' : ''}${mb(bytes)}`;
}

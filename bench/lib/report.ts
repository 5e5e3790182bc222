import type { Series, Spread } from './load.ts';
import type { PeerFigures } from './peer.ts';
import { figure, ratio, type Row } from './table.ts';

/** Everything one bench run measured, as the table shows it. */
export type BenchResults = {
  rawArgon2: Spread;
  signIn: Series;
  healthDuringSignIn: { health: Series; signIn: Series };
  totpVerify: Series;
  totpVerifyTwoInstances: Series;
  me: Series;
  invalidation: { small: Spread; large: Spread; sessions: [number, number] };
  usersPage: { name: string; p95: Spread }[];
  pageOrgUsers: number;
  peakRssBytes: number[];
  peer: PeerFigures | null;
};

const MB = 1024 * 1024;

function count(value: number): string {
  return value >= 1_000_000 ? `${value / 1_000_000}M` : `${value / 1000}k`;
}

/** Portcullis over the peer, or a dash when the peer did not run. */
function overPeer(ours: Series, theirs: Series | undefined): number | null {
  return theirs ? ours.requestsPerSecond.median / theirs.requestsPerSecond.median : null;
}

export function buildRows(results: BenchResults): Row[] {
  const { peer } = results;
  const signInRatio = results.signIn.requestsPerSecond.median / results.rawArgon2.median;
  const totpOverPeer = overPeer(results.totpVerify, peer?.verifyTotp);
  const meOverPeer = overPeer(results.me, peer?.getSession);
  const signInOverPeer = overPeer(results.signIn, peer?.signIn);
  const scaling =
    results.totpVerifyTwoInstances.requestsPerSecond.median /
    results.totpVerify.requestsPerSecond.median;
  const [small, large] = results.invalidation.sessions;
  const invalidationRatio = results.invalidation.large.median / results.invalidation.small.median;
  const peakRss = Math.max(...results.peakRssBytes);
  const rows: Row[] = [
    {
      scenario: '1 argon2id verify, raw (thread pool full)',
      figure: figure(results.rawArgon2, 'verifies/s'),
      target: '',
      ratio: '',
      met: null,
    },
    {
      scenario: '2 POST /auth/login (no MFA)',
      figure: figure(results.signIn.requestsPerSecond, 'req/s'),
      target: '≥ 0.85 × (1)',
      ratio: `${ratio(signInRatio)} of (1)`,
      met: signInRatio >= 0.85 && results.signIn.errors === 0,
    },
    {
      scenario: '2   p99',
      figure: figure(results.signIn.p99, 'ms'),
      target: '',
      ratio: '',
      met: null,
    },
    {
      scenario: '3 POST /auth/mfa/verify (TOTP), 1 instance',
      figure: figure(results.totpVerify.requestsPerSecond, 'req/s'),
      target: '≥ 5 × Better Auth',
      ratio: totpOverPeer === null ? '—' : `${ratio(totpOverPeer)} BA`,
      met: totpOverPeer === null ? null : totpOverPeer >= 5 && results.totpVerify.errors === 0,
    },
    {
      scenario: '3   p50',
      figure: figure(results.totpVerify.p50, 'ms'),
      target: '',
      ratio: '',
      met: null,
    },
    {
      scenario: '3   p99 (10 connections)',
      figure: figure(results.totpVerify.p99, 'ms'),
      target: '≤ 25 ms',
      ratio: '',
      met: results.totpVerify.p99.median <= 25,
    },
    {
      scenario: '3 TOTP verify, 2 instances (5 + 5 conn.)',
      figure: figure(results.totpVerifyTwoInstances.requestsPerSecond, 'req/s'),
      target: '',
      ratio: `${ratio(scaling)} of 1 instance`,
      met: null,
    },
    {
      scenario: '4 GET /me',
      figure: figure(results.me.requestsPerSecond, 'req/s'),
      target: '≥ 5 × BA get-session',
      ratio: meOverPeer === null ? '—' : `${ratio(meOverPeer)} BA`,
      met: meOverPeer === null ? null : meOverPeer >= 5 && results.me.errors === 0,
    },
    {
      scenario: '5 /healthz p99 during sign-in storm',
      figure: figure(results.healthDuringSignIn.health.p99, 'ms'),
      target: '< 25 ms',
      ratio: '',
      met: results.healthDuringSignIn.health.p99.median < 25,
    },
    {
      scenario: `6 org-wide invalidation, ${count(small)} sessions`,
      figure: figure(results.invalidation.small, 'ms'),
      target: '',
      ratio: '',
      met: null,
    },
    {
      scenario: `6 org-wide invalidation, ${count(large)} sessions`,
      figure: figure(results.invalidation.large, 'ms'),
      target: `${count(large)}/${count(small)} ≤ 2`,
      ratio: ratio(invalidationRatio),
      met: invalidationRatio <= 2,
    },
    ...results.usersPage.map((page) => ({
      scenario: `7 GET /org/users p95, ${page.name}, ${count(results.pageOrgUsers)} users`,
      figure: figure(page.p95, 'ms'),
      target: '≤ 20 ms',
      ratio: '',
      met: page.p95.median <= 20,
    })),
    {
      scenario: '8 peak RSS per server process',
      figure: results.peakRssBytes.map((bytes) => `${(bytes / MB).toFixed(0)} MB`).join(', '),
      target: '≤ 250 MB',
      ratio: '',
      met: peakRss <= 250 * MB,
    },
  ];
  if (peer) rows.push(...peerRows(peer, signInOverPeer));
  return rows;
}

function peerRows(peer: PeerFigures, signInOverPeer: number | null): Row[] {
  const name = `${peer.name} ${peer.version}`;
  const row = (scenario: string, value: string, ratioText = ''): Row => ({
    scenario,
    figure: value,
    target: '',
    ratio: ratioText,
    met: null,
  });
  return [
    row(
      `2 peer: ${name} sign-in`,
      figure(peer.signIn.requestsPerSecond, 'req/s'),
      signInOverPeer === null ? '' : `Portcullis ${ratio(signInOverPeer)}`,
    ),
    row('2   peer p99', figure(peer.signIn.p99, 'ms')),
    row(`3 peer: ${name} verify-totp`, figure(peer.verifyTotp.requestsPerSecond, 'req/s')),
    row('3   peer p50', figure(peer.verifyTotp.p50, 'ms')),
    row('3   peer p99', figure(peer.verifyTotp.p99, 'ms')),
    row(`4 peer: ${name} get-session`, figure(peer.getSession.requestsPerSecond, 'req/s')),
    row('8 peer: peak RSS', `${(peer.peakRssBytes / MB).toFixed(0)} MB`),
  ];
}

/** Loads whose answers were not all the expected status: every figure above assumes none. */
export function errorNote(results: BenchResults): string {
  const loads: [string, Series][] = [
    ['sign-in', results.signIn],
    ['sign-in during /healthz', results.healthDuringSignIn.signIn],
    ['/healthz', results.healthDuringSignIn.health],
    ['TOTP verify', results.totpVerify],
    ['TOTP verify, 2 instances', results.totpVerifyTwoInstances],
    ['GET /me', results.me],
  ];
  if (results.peer) {
    loads.push(
      ['peer sign-in', results.peer.signIn],
      ['peer verify-totp', results.peer.verifyTotp],
      ['peer get-session', results.peer.getSession],
    );
  }
  const failed = loads.filter(([, series]) => series.errors > 0);
  if (failed.length === 0) return 'Errors: none (every answer had the expected status).';
  return `ERRORS: ${failed.map(([name, series]) => `${name} ${series.errors}`).join(', ')}.`;
}

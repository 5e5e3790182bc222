/**
 * What a bench run measures and how long, from the environment and the command line:
 *
 *   BENCH_POSTGRES_URL   the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_RUNS           runs per figure (default 5)
 *   BENCH_SECONDS        seconds per timed load (default 5)
 *   BENCH_TOTP_REQUESTS  requests per TOTP verify run (default: sized to last BENCH_SECONDS)
 *   BENCH_PEER=off       skip the Better Auth peer
 *   BENCH_PROFILE=1      start the servers with --cpu-prof (profiles in bench-profiles/)
 *   --quick              a smoke run: 2 runs of 3 s, smaller data sets
 */
export type BenchSettings = {
  postgresUrl: string;
  runs: number;
  seconds: number;
  /** Connections of every HTTP load, ours and the peer's (the TOTP target is stated at 10). */
  connections: number;
  quick: boolean;
  peer: boolean;
  profile: boolean;
  /** Requests of every TOTP verify run, or null: sized from the previous run's rate. */
  totpRequestsPerRun: number | null;
  /** The most requests a sized TOTP run may have: each needs a seeded user of its own. */
  totpMaxRequestsPerRun: number;
  /** Users of the one big org of the users-page scenario. */
  pageOrgUsers: number;
  /** Session counts of the invalidation scenario: small, then large. */
  invalidationSessions: [number, number];
  /** Timings of one invalidation per session count. */
  invalidationTimings: number;
  /** Sequential requests of one users-page run (after a warm-up). */
  pageSamples: number;
};

export function readSettings(env: NodeJS.ProcessEnv, argv: string[]): BenchSettings {
  const quick = argv.includes('--quick');
  const runs = positiveInteger('BENCH_RUNS', env.BENCH_RUNS, quick ? 2 : 5);
  const seconds = positiveInteger('BENCH_SECONDS', env.BENCH_SECONDS, quick ? 3 : 5);
  return {
    postgresUrl: env.BENCH_POSTGRES_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres',
    runs,
    seconds,
    connections: 10,
    quick,
    peer: env.BENCH_PEER !== 'off',
    profile: env.BENCH_PROFILE === '1',
    totpRequestsPerRun: env.BENCH_TOTP_REQUESTS
      ? positiveInteger('BENCH_TOTP_REQUESTS', env.BENCH_TOTP_REQUESTS, 0)
      : null,
    totpMaxRequestsPerRun: quick ? 1_000 : 5_000,
    pageOrgUsers: quick ? 10_000 : 100_000,
    invalidationSessions: quick ? [1_000, 100_000] : [1_000, 1_000_000],
    invalidationTimings: quick ? 5 : 15,
    pageSamples: quick ? 50 : 200,
  };
}

function positiveInteger(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be an integer ≥ 1`);
  return value;
}

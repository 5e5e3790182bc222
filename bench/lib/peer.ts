import { existsSync } from 'node:fs';
import type { Series } from './load.ts';

/** What the Better Auth peer (bench/peers/better-auth/measure.ts) measures, the same way as ours. */
export type PeerFigures = {
  name: string;
  version: string;
  signIn: Series;
  verifyTotp: Series;
  getSession: Series;
  acceptsReplayedTotp: boolean;
  peakRssBytes: number;
};

type MeasurePeer = (options: {
  postgresUrl: string;
  runs: number;
  seconds: number;
  connections: number;
  verifyRequestsPerRun?: number;
  log?: (line: string) => void;
}) => Promise<PeerFigures>;

const peerModule = new URL('../peers/better-auth/measure.ts', import.meta.url);

export function peerInstalled(): boolean {
  return existsSync(peerModule);
}

/** Loaded only when the peer runs: it has dependencies of its own (bench/peers/better-auth). */
export async function measureBetterAuth(options: Parameters<MeasurePeer>[0]) {
  const peer = (await import(peerModule.href)) as { measureBetterAuth: MeasurePeer };
  return peer.measureBetterAuth(options);
}

import { join, relative } from 'node:path';
import { ConfigError } from '../config.ts';

export const CONTROL_SOCKET_NAME = 'portcullis.sock';

/**
 * A Unix socket path is at most 107 bytes on Linux and 103 on macOS and the BSDs (sun_path, its
 * final NUL aside); a longer one cannot be bound at all.
 */
const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

/**
 * Where the owner of a data dir listens: `<data dir>/portcullis.sock`, spelled from the working
 * directory when that is shorter (as `data/portcullis.sock` is for the default `./data`), so a deep
 * working directory does not matter. Every process computes the path itself; none of them ever
 * changes its working directory. A data dir whose socket path is still too long is refused.
 */
export function controlSocketPath(dataDir: string, cwd = process.cwd()): string {
  const absolute = join(dataDir, CONTROL_SOCKET_NAME);
  const fromCwd = relative(cwd, absolute);
  const path = Buffer.byteLength(fromCwd) < Buffer.byteLength(absolute) ? fromCwd : absolute;
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new ConfigError(
      `PORTCULLIS_DATA_DIR is too long: its control socket ${absolute} would be ${bytes} bytes, and a Unix socket path is at most ${MAX_SOCKET_PATH_BYTES}; choose a shorter data dir`,
    );
  }
  return path;
}

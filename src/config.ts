import { resolve } from 'node:path';
import { AUTH_REQUESTS_PER_IP_PER_MINUTE, DEFAULT_POOL_SIZE } from './core/limits.ts';

export type Config = {
  port: number;
  host: string;
  databaseUrl: string | null;
  /** Connections each instance keeps to PostgreSQL (PGlite has exactly one). */
  databasePoolSize: number;
  dataDir: string;
  baseUrl: URL | null;
  smtpUrl: string | null;
  mailFrom: string;
  redisUrl: string | null;
  /** Trust X-Forwarded-For only from proxies named here; off by default. */
  trustProxy: boolean | string;
  /** Per-IP ceiling on the unauthenticated auth routes (sign-in, reset, setup, SSO start). */
  authRequestsPerIpPerMinute: number;
  logLevel: string;
  /** 32 bytes; null means "generate one in the data dir", allowed only with the embedded database. */
  encryptionKey: Buffer | null;
  /** The bearer token GET /metrics asks for; null turns /metrics off. */
  metricsToken: string | null;
  /** An SSO issuer on loopback (an identity provider on this machine): development and tests only. */
  ssoAllowLoopback: boolean;
};

/** A bad value stops start-up with one line naming the variable; its value is never echoed. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv): Config {
  return {
    port: parsePort(env.PORT),
    host: env.HOST?.trim() || '127.0.0.1',
    databaseUrl: parseDatabaseUrl(env.DATABASE_URL),
    databasePoolSize: parsePositiveInteger('DATABASE_POOL_SIZE', env.DATABASE_POOL_SIZE, {
      fallback: DEFAULT_POOL_SIZE,
      max: 1000,
    }),
    dataDir: resolve(env.PORTCULLIS_DATA_DIR?.trim() || './data'),
    baseUrl: parseBaseUrl(env.PORTCULLIS_BASE_URL),
    smtpUrl: parseOptionalUrl('SMTP_URL', env.SMTP_URL, ['smtp:', 'smtps:']),
    mailFrom: env.PORTCULLIS_MAIL_FROM?.trim() || 'Portcullis <portcullis@localhost>',
    redisUrl: parseOptionalUrl('REDIS_URL', env.REDIS_URL, ['redis:', 'rediss:']),
    trustProxy: parseTrustProxy(env.PORTCULLIS_TRUST_PROXY),
    authRequestsPerIpPerMinute: parsePositiveInteger(
      'PORTCULLIS_AUTH_RATE_LIMIT',
      env.PORTCULLIS_AUTH_RATE_LIMIT,
      { fallback: AUTH_REQUESTS_PER_IP_PER_MINUTE, max: 1_000_000 },
    ),
    logLevel: parseLogLevel(env.LOG_LEVEL),
    encryptionKey: parseEncryptionKey(env.PORTCULLIS_ENCRYPTION_KEY),
    metricsToken: parseMetricsToken(env.PORTCULLIS_METRICS_TOKEN),
    ssoAllowLoopback: parseBoolean(
      'PORTCULLIS_SSO_ALLOW_LOOPBACK',
      env.PORTCULLIS_SSO_ALLOW_LOOPBACK,
    ),
  };
}

function parsePositiveInteger(
  name: string,
  raw: string | undefined,
  { fallback, max }: { fallback: number; max: number },
): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(`${name} must be an integer from 1 to ${max}`);
  }
  return value;
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 3000;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('PORT must be an integer from 0 to 65535');
  }
  return port;
}

function parseDatabaseUrl(raw: string | undefined): string | null {
  return parseOptionalUrl('DATABASE_URL', raw, ['postgres:', 'postgresql:']);
}

function parseBaseUrl(raw: string | undefined): URL | null {
  const url = parseOptionalUrl('PORTCULLIS_BASE_URL', raw, ['http:', 'https:']);
  return url === null ? null : new URL(url);
}

function parseOptionalUrl(name: string, raw: string | undefined, protocols: string[]) {
  if (raw === undefined || raw.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw.trim();
}

/** Unset or empty means false; anything but true or false stops start-up. */
function parseBoolean(name: string, raw: string | undefined): boolean {
  const value = raw?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new ConfigError(`${name} must be true or false`);
}

function parseTrustProxy(raw: string | undefined): boolean | string {
  const value = raw?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  return value;
}

function parseLogLevel(raw: string | undefined): string {
  const level = raw?.trim() || 'info';
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return level;
}

function parseEncryptionKey(raw: string | undefined): Buffer | null {
  if (raw === undefined || raw.trim() === '') return null;
  const key = Buffer.from(raw.trim(), 'base64');
  if (key.length !== 32) {
    throw new ConfigError(
      'PORTCULLIS_ENCRYPTION_KEY must be 32 bytes in base64 (make one with: openssl rand -base64 32)',
    );
  }
  return key;
}

/** Long enough that guessing it over the network is hopeless; bearer-token characters only. */
const METRICS_TOKEN_MIN_LENGTH = 32;

function parseMetricsToken(raw: string | undefined): string | null {
  if (raw === undefined || raw.trim() === '') return null;
  const token = raw.trim();
  if (token.length < METRICS_TOKEN_MIN_LENGTH || !/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) {
    throw new ConfigError(
      `PORTCULLIS_METRICS_TOKEN must be at least ${METRICS_TOKEN_MIN_LENGTH} letters, digits or - . _ ~ + / (make one with: openssl rand -hex 32)`,
    );
  }
  return token;
}

import type { ServiceDeps } from '../services/deps.ts';
import type { CookieSettings } from './session.ts';

/** The route config that puts the per-IP ceiling on an unauthenticated auth route. */
export type PerIpLimit = { rateLimit: { max: number; timeWindow: string } };

/** What every route plugin receives: the services' dependencies, cookie settings and IP limit. */
export type RouteContext = {
  deps: ServiceDeps;
  cookie: CookieSettings;
  perIpAuthLimit: PerIpLimit;
};

export function perIpLimit(requestsPerMinute: number): PerIpLimit {
  return { rateLimit: { max: requestsPerMinute, timeWindow: '1 minute' } };
}

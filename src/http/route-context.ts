import type { ServiceDeps } from '../services/deps.ts';
import type { CookieSettings } from './session.ts';

/** What every route plugin receives: the services' dependencies and the cookie settings. */
export type RouteContext = { deps: ServiceDeps; cookie: CookieSettings };

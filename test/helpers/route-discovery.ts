import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { HTTPMethods } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Store } from '../../src/store/db.ts';
import type { Database } from '../../src/store/schema.ts';
import { createTestApp } from './app.ts';
import { exampleOf, type JsonSchema } from './schema-fuzz.ts';

/*
 * The routes under test, read from the app itself (its route table and its OpenAPI document), so
 * that a route added later gets every barrage without anyone writing a line for it.
 */

export type OpenApiParameter = { in: string; name: string; schema?: JsonSchema };

/** One operation of the OpenAPI document; the path keeps its `{name}` parameters. */
export type DocumentedOperation = {
  method: string;
  path: string;
  bodySchema: JsonSchema | undefined;
  parameters: OpenApiParameter[];
};

type OpenApiOperation = {
  requestBody?: { content?: Record<string, { schema?: JsonSchema } | undefined> };
  parameters?: OpenApiParameter[];
};
type OpenApiDocument = { paths: Record<string, Record<string, OpenApiOperation | undefined>> };

/** Every operation an OpenAPI document lists, with its JSON body schema and its parameters. */
export function operationsOf(document: unknown): DocumentedOperation[] {
  const operations: DocumentedOperation[] = [];
  for (const [path, byMethod] of Object.entries((document as OpenApiDocument).paths)) {
    for (const [method, operation] of Object.entries(byMethod)) {
      operations.push({
        method: method.toUpperCase(),
        path,
        bodySchema: operation?.requestBody?.content?.['application/json']?.schema,
        parameters: operation?.parameters ?? [],
      });
    }
  }
  return operations;
}

/** Routes anyone may call without a session. Every other route must answer 401 without one. */
const PUBLIC_ROUTES = new Set([
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'GET /setup',
  'GET /reset-password',
  'GET *',
  'GET /api/v1/openapi.json',
  'GET /api/v1/setup',
  'POST /api/v1/setup',
  'POST /api/v1/auth/login',
  'POST /api/v1/auth/password/forgot',
  'POST /api/v1/auth/password/reset',
  'GET /api/v1/auth/sso/:org',
  'GET /api/v1/auth/sso/:org/start',
  'GET /api/v1/auth/sso/callback',
]);
/**
 * Each org's OpenID Provider (/oidc/{org}/...) speaks OAuth, not this JSON API: form posts,
 * redirects and bearer tokens, answered by oidc-provider. Its endpoints have tests of their own
 * (test/integration/provider/), bad input included.
 */
const PROVIDER_PATHS = '/oidc/';
/** Every route under /api/v1/org/ is for the org's admins only. */
const ADMIN_PREFIX = '/api/v1/org/';
export const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export type Guard = 'public' | 'session' | 'admin';
export type Route = {
  /** "POST /api/v1/auth/login", as registered. */
  key: string;
  method: HTTPMethods;
  path: string;
  /** The path with its parameters filled in. */
  url: string;
  guard: Guard;
  documented: boolean;
  bodySchema: JsonSchema | null;
};

/** A store whose database is already closed: enough to build an app and read its routes. */
async function closedStore(): Promise<Store> {
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ max: 1 }) }),
  });
  await db.destroy();
  return {
    db,
    kind: 'postgres',
    migrate: async () => {},
    isReachable: async () => false,
    copyDataDir: null,
    close: async () => {},
  };
}

/** printRoutes({ commonPrefix: false }) nests a route under its parent's path, 4 columns a level. */
function parsePrintedRoutes(tree: string): Array<{ method: string; path: string }> {
  const parents: string[] = [];
  const routes: Array<{ method: string; path: string }> = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    const path = (depth > 0 ? (parents[depth - 1] ?? '') : '') + (match[2] ?? '');
    parents.length = depth;
    parents.push(path);
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, path });
  }
  return routes;
}

/** Every route the app registers (HEAD aside), with its guard and, if documented, its schema. */
export async function discoverRoutes(): Promise<Route[]> {
  const { app, close } = await createTestApp(await closedStore());
  try {
    await app.ready();
    const registered = parsePrintedRoutes(app.printRoutes({ commonPrefix: false }));
    assert.ok(registered.length > 0, 'no route could be read from printRoutes()');
    const document = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const documented = new Map(
      operationsOf(document).map((operation) => [
        `${operation.method} ${operation.path}`,
        operation,
      ]),
    );
    return registered
      .filter(({ method, path }) => method !== 'HEAD' && !path.startsWith(PROVIDER_PATHS))
      .map(({ method, path }) => {
        const operation = documented.get(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
        const key = `${method} ${path}`;
        return {
          key,
          method: method as HTTPMethods,
          path,
          url: path.replace(/:(\w+)/g, (_, name: string) =>
            exampleParameter(operation?.parameters.find((p) => p.in === 'path' && p.name === name)),
          ),
          // The console's files and pages are public: its data comes from the guarded API.
          guard:
            PUBLIC_ROUTES.has(key) || (method === 'GET' && !path.startsWith('/api/'))
              ? 'public'
              : path.startsWith(ADMIN_PREFIX)
                ? 'admin'
                : 'session',
          documented: operation !== undefined,
          bodySchema: operation?.bodySchema ?? null,
        };
      });
  } finally {
    await close();
  }
}

function exampleParameter(parameter: { schema?: JsonSchema } | undefined): string {
  const schema = parameter?.schema;
  if (schema && (schema.enum || schema.const !== undefined || schema.anyOf)) {
    return String(exampleOf(schema));
  }
  return randomUUID();
}

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';

/*
 * Values derived from a route's JSON schema, as the server's OpenAPI document gives it: a valid
 * example with every field present, and, field by field, values of the wrong kind; or, for
 * property tests, arbitraries of valid and of almost-valid bodies. A route added later is covered
 * without anyone writing its bad inputs by hand.
 */

/** A JSON schema, with the keywords these tests read. */
export type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
};

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export type FieldPath = string[];

/** The API's ids are UUIDs, given as a pattern of hex digits. */
function isUuidPattern(pattern: string): boolean {
  return /^\^\[0-9a-fA-F\]\{8\}/.test(pattern);
}

/** A schema-valid value, optional properties included (so that every field is present). */
export function exampleOf(schema: JsonSchema): Json {
  if (schema.const !== undefined) return schema.const as Json;
  if (schema.enum) return schema.enum[0] as Json;
  if (schema.anyOf?.[0]) return exampleOf(schema.anyOf[0]);
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([name, child]) => [name, exampleOf(child)]),
      );
    case 'string':
      // The patterns the API uses: ids (UUIDs) and small numbers.
      if (schema.pattern && isUuidPattern(schema.pattern)) return randomUUID();
      if (schema.pattern) return '1';
      return 'a'.repeat(Math.max(1, schema.minLength ?? 1));
    case 'boolean':
      return false;
    case 'integer':
    case 'number':
      return 1;
    case 'array':
      return [];
    default:
      return null;
  }
}

/** The JSON kinds a schema accepts ("integer" counts as a number). */
function kindsOf(schema: JsonSchema): Set<string> {
  if (schema.anyOf) return new Set(schema.anyOf.flatMap((branch) => [...kindsOf(branch)]));
  if (schema.const !== undefined || schema.enum) {
    return new Set(
      [schema.const, ...(schema.enum ?? [])].filter((v) => v !== undefined).map(kindOf),
    );
  }
  if (schema.type === 'integer') return new Set(['number']);
  return new Set(schema.type ? [schema.type] : []);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

export function isEnumerated(schema: JsonSchema): boolean {
  return (
    schema.const !== undefined ||
    schema.enum !== undefined ||
    (schema.anyOf?.every(isEnumerated) ?? false)
  );
}

/** One value of every JSON kind the field does not accept: nothing may be coerced into it. */
export function wrongValuesFor(schema: JsonSchema): Json[] {
  const samples: Json[] = [42, 'text', true, null, ['a'], {}];
  const accepted = kindsOf(schema);
  const wrong = samples.filter((sample) => !accepted.has(kindOf(sample)));
  if (isEnumerated(schema)) wrong.push('not-an-allowed-value');
  return wrong;
}

export type Field = { path: FieldPath; schema: JsonSchema; required: boolean };

export function fieldsOf(schema: JsonSchema, path: FieldPath = []): Field[] {
  return Object.entries(schema.properties ?? {}).flatMap(([name, child]) => [
    { path: [...path, name], schema: child, required: schema.required?.includes(name) ?? false },
    ...(child.type === 'object' ? fieldsOf(child, [...path, name]) : []),
  ]);
}

export function objectPathsOf(schema: JsonSchema): FieldPath[] {
  return [
    [],
    ...fieldsOf(schema)
      .filter((field) => field.schema.type === 'object')
      .map((field) => field.path),
  ];
}

export function pointer(path: FieldPath): string {
  return path.map((segment) => `/${segment}`).join('');
}

function parentOf(body: JsonObject, path: FieldPath): JsonObject {
  let node: JsonObject = body;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      node[segment] = {};
    }
    node = node[segment] as JsonObject;
  }
  return node;
}

export function withValue(body: Json, path: FieldPath, value: Json): Json {
  const copy = structuredClone(body) as JsonObject;
  if (path.length === 0) return value;
  parentOf(copy, path)[path.at(-1) as string] = value;
  return copy;
}

export function without(body: Json, path: FieldPath): Json {
  const copy = structuredClone(body) as JsonObject;
  delete parentOf(copy, path)[path.at(-1) as string];
  return copy;
}

export function valueAt(body: Json, path: FieldPath): Json | undefined {
  let node: Json | undefined = body;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = node[segment];
  }
  return node;
}

/** A JSON text of exactly `bytes` bytes, padded with `filler` (which may take several bytes). */
export function jsonOfBytes(bytes: number, fields: JsonObject, filler = 'x'): string {
  const head = JSON.stringify({ ...fields, pad: '' }).slice(0, -2);
  const room = bytes - Buffer.byteLength(`${head}"}`);
  const fillerBytes = Buffer.byteLength(filler);
  const text = `${head}${filler.repeat(Math.floor(room / fillerBytes))}${'x'.repeat(room % fillerBytes)}"}`;
  assert.equal(Buffer.byteLength(text), bytes);
  return text;
}

// Arbitraries (fast-check) for property tests.

/** Values that match a schema (short strings, so that most requests reach the service). */
export function valid(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  if (!schema) return fc.jsonValue();
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map(valid));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'object': {
      const properties = schema.properties ?? {};
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties)) shape[name] = valid(property);
      return fc.record(shape, { requiredKeys: schema.required ?? [] });
    }
    case 'string':
      if (schema.pattern && isUuidPattern(schema.pattern)) return fc.uuid();
      if (schema.pattern === '^[0-9]{1,4}$') return fc.integer({ min: 0, max: 9999 }).map(String);
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      return fc.string({
        minLength: schema.minLength ?? 0,
        maxLength: Math.min(schema.maxLength ?? 40, 40),
      });
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
    case 'number':
      return fc.double({ noNaN: true });
    case 'array':
      return fc.array(valid(schema.items), { maxLength: 5 });
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue();
  }
}

/** Anything JSON can hold, the odd values included. */
export const anyJson = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom('', '\u0000', 'a'.repeat(5000), -0, 1e308, '__proto__', '🙂'.repeat(300)),
);

/** A value of the schema's shape with one thing wrong: a field's type, a missing or extra key. */
export function mutated(schema: JsonSchema | undefined): fc.Arbitrary<unknown> {
  const base = valid(schema);
  return fc.oneof(
    fc.tuple(base, fc.string({ maxLength: 20 }), anyJson).map(([value, key, wrong]) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return wrong;
      const keys = Object.keys(value);
      const target = keys.length > 0 ? keys[key.length % keys.length]! : key;
      return { ...value, [target]: wrong };
    }),
    fc.tuple(base, fc.nat()).map(([value, n]) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      const keys = Object.keys(value);
      if (keys.length === 0) return value;
      const copy: Record<string, unknown> = { ...value };
      delete copy[keys[n % keys.length]!];
      return copy;
    }),
    fc
      .tuple(base, fc.string({ maxLength: 20 }), anyJson)
      .map(([value, key, extra]) =>
        value !== null && typeof value === 'object' && !Array.isArray(value)
          ? { ...value, [key]: extra }
          : [value, extra],
      ),
    base.map((value) => [value]),
  );
}

/**
 * Keyset pagination cursors: the (time, id) of the last row of a page, opaque to clients. A
 * cursor that does not decode to exactly that is refused, never passed to the database.
 */
export type Cursor = { at: Date; id: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * Only the years 0001 to 9999: JavaScript dates reach ±275,760 years and have a year 0000, which
 * PostgreSQL does not read in this form; a date it cannot hold would fail the query instead of
 * the request.
 */
const ISO_TIME = /^(?!0000)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.at.toISOString(), cursor.id])).toString('base64url');
}

export function decodeCursor(raw: string): Cursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return null;
    const [at, id] = value;
    if (typeof at !== 'string' || typeof id !== 'string' || !UUID.test(id)) return null;
    if (!ISO_TIME.test(at)) return null;
    const date = new Date(at);
    if (Number.isNaN(date.getTime()) || date.toISOString() !== at) return null;
    return { at: date, id };
  } catch {
    return null;
  }
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

import { Type } from 'typebox';
import { decodeCursor, encodeCursor, type Cursor } from '../core/cursor.ts';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export const PageQuery = {
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  limit: Type.Optional(Type.String({ maxLength: 4, pattern: '^[0-9]{1,4}$' })),
};

/** The page asked for; a cursor that does not decode is the client's error, never a query. */
export function readPage(query: {
  cursor?: string;
  limit?: string;
}): { ok: true; cursor: Cursor | null; limit: number } | { ok: false; error: 'invalid_cursor' } {
  const limit = Math.min(MAX_PAGE_SIZE, Math.max(1, Number(query.limit ?? DEFAULT_PAGE_SIZE)));
  if (query.cursor === undefined) return { ok: true, cursor: null, limit };
  const cursor = decodeCursor(query.cursor);
  return cursor ? { ok: true, cursor, limit } : { ok: false, error: 'invalid_cursor' };
}

/** Asks the store for one row more than the page: its presence says whether a next page exists. */
export function pageOf<T extends { id: string }>(
  rows: T[],
  limit: number,
  at: (row: T) => Date,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor =
    rows.length > limit && last ? encodeCursor({ at: at(last), id: last.id }) : null;
  return { items, nextCursor };
}

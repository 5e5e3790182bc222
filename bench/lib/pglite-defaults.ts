/**
 * Loaded with `--import` into a bench server: PGlite then starts with its own default settings,
 * whatever src/store/db.ts asks for, so that one run can measure the tuned settings against them.
 */
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';

const create = PGlite.create.bind(PGlite);
Object.defineProperty(PGlite, 'create', {
  value: (options: PGliteOptions) => create({ ...options, startParams: undefined }),
});

import { availableParallelism } from 'node:os';
import { hash, verify, type Options } from '@node-rs/argon2';
import { createLimiter } from '../../core/concurrency-limit.ts';
import { ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM } from '../../core/limits.ts';

const ARGON2ID = 2;

export type Argon2Parameters = { memoryCost: number; timeCost: number; parallelism: number };

export type PasswordHasher = {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** True when the stored hash was made with other parameters than today's. */
  needsRehash(passwordHash: string): boolean;
  /** Spends the same time as a real verification, for accounts that do not exist. */
  verifyDummy(password: string): Promise<void>;
};

export const owaspArgon2Parameters: Argon2Parameters = {
  memoryCost: ARGON2_MEMORY_KIB,
  timeCost: ARGON2_ITERATIONS,
  parallelism: ARGON2_PARALLELISM,
};

/**
 * argon2id through @node-rs/argon2, whose hash and verify run on libuv's thread pool, never on
 * the event loop. The PHC string keeps the parameters beside the hash, so they can be raised later.
 *
 * At most one hash per core runs at a time; the others wait their turn here. One lane is one
 * thread's work, so that many already saturate the CPU: more would not add throughput, but each
 * holds its 19 MiB while it runs, and on a machine with fewer cores than libuv's 4 threads they
 * would take CPU from the event loop and leave no thread for file and DNS work during a sign-in
 * storm.
 */
export async function createPasswordHasher(
  parameters: Argon2Parameters = owaspArgon2Parameters,
  concurrency: number = availableParallelism(),
): Promise<PasswordHasher> {
  // Algorithm is an ambient const enum that erasable syntax cannot import; 2 is its Argon2id.
  const options = { algorithm: ARGON2ID as Options['algorithm'], ...parameters };
  const inTurn = createLimiter(concurrency);
  const dummyHash = await hash('portcullis-dummy-password', options);
  const expectedParameters = `m=${parameters.memoryCost},t=${parameters.timeCost},p=${parameters.parallelism}`;
  return {
    hash: (password) => inTurn(() => hash(password, options)),
    verify: async (passwordHash, password) => {
      try {
        return await inTurn(() => verify(passwordHash, password));
      } catch {
        return false;
      }
    },
    needsRehash: (passwordHash) =>
      !passwordHash.startsWith('$argon2id$') || !passwordHash.includes(`$${expectedParameters}$`),
    // The same queue as a real verification: an unknown account waits and costs the same.
    verifyDummy: async (password) => {
      await inTurn(() => verify(dummyHash, password)).catch(() => false);
    },
  };
}

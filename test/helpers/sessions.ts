import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { authenticate } from '../../src/core/authentication-facts.ts';
import { generateToken, hashToken } from '../../src/core/tokens.ts';
import type { Database, Org, User } from '../../src/store/schema.ts';
import { withSession } from './app.ts';

/**
 * Thousands of live sessions, written straight to the table (signing in thousands of times is
 * slow), spread over the given users; returns their cookie tokens.
 */
export async function manySessions(
  db: Kysely<Database>,
  org: Org,
  users: User[],
  count: number,
  now: Date,
): Promise<string[]> {
  const tokens = Array.from({ length: count }, () => generateToken(randomBytes, 32));
  const facts = authenticate(null, { method: 'password' }, now);
  const rows = tokens.map((token, i) => {
    const user = users[i % users.length] as User;
    return {
      token_hash: hashToken(token),
      user_id: user.id,
      org_id: org.id,
      status: 'authenticated' as const,
      aal: 1,
      org_epoch: org.session_epoch,
      user_epoch: user.session_epoch,
      created_at: now,
      last_seen_at: now,
      ip: null,
      user_agent: null,
      auth_time: facts.authTime,
      acr: facts.acr,
      amr: JSON.stringify(facts.amr),
    };
  });
  for (let i = 0; i < rows.length; i += 500) {
    await db
      .insertInto('sessions')
      .values(rows.slice(i, i + 500))
      .execute();
  }
  return tokens;
}

/** How many of the sessions answer GET /me with each status, e.g. { 401: 3000 }. */
export async function meStatuses(
  app: FastifyInstance,
  tokens: string[],
): Promise<Record<number, number>> {
  const counts = new Map<number, number>();
  for (let i = 0; i < tokens.length; i += 100) {
    const answers = await Promise.all(
      tokens
        .slice(i, i + 100)
        .map((token) => app.inject({ url: '/api/v1/me', headers: withSession(token) })),
    );
    for (const a of answers) counts.set(a.statusCode, (counts.get(a.statusCode) ?? 0) + 1);
  }
  return Object.fromEntries(counts);
}

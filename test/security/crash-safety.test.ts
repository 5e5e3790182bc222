import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { test } from 'node:test';
import { ADMIN, Service, TEST_DATABASE_URL, type Client } from './harness.ts';
import { brokenInvariants } from './invariants.ts';
import {
  Halted,
  Totp,
  Unanswered,
  accepted,
  call,
  canVerify,
  codeMailCount,
  crashInspectRestart,
  halfDoneRows,
  kind,
  mailedCode,
  newPerson,
  passwordChangesByUser,
  secondFactor,
  sleep,
  startMailbox,
  type Answer,
  type Mailbox,
  type Person,
} from './crash-helpers.ts';

/*
 * The server is SIGKILLed in the middle of enrollments, sign-ins, password changes and policy
 * changes, then started again on the same data (PGlite data dir, or PostgreSQL database). Every
 * request whose answer arrived was committed and must still show; a request without an answer may
 * or may not have landed, but never halfway. Three kills in one run, each at a random moment.
 */

const ROUNDS = 3;
/** The load runs this long (ms, random in the range) before the kill. */
const LOAD_MS = [300, 1500] as const;
const ADMINS = 4;
const VERIFIERS = 5;
const CHANGERS = 3;
const ENROLLERS = 10;
/** Members who each send one confirmation six times at once (the race hit about 1 in 8). */
const DOUBLE_SUBMITS = 16;
/** Weakening the policy emails the admin a code, at most one per 30 s per admin. */
const WEAKEN_RESEND_MS = 31_000;

type Policy = 'enabled' | 'required';

/** What the test knows of the org: the people in it and its policy. */
type World = {
  service: Service;
  mailbox: Mailbox;
  admins: Person[];
  /** Enrolled before the load; they sign in and verify. */
  verifiers: Person[];
  /** Enrolled before the load; they change their password. */
  changers: Person[];
  /** Enroll an authenticator under load. */
  enrollers: Person[];
  policy: Policy;
  /** A policy change sent without an answer: the policy may be this one too. */
  policyInFlight?: Policy;
  nextStrengthening: 'invalidate' | 'keep';
  weakenedAt: Map<string, number>;
  /** Password changes per user: acknowledged, and sent without an answer. */
  passwordChanges: Map<string, { acknowledged: number; unanswered: number }>;
};

/** One round of load: what its answers said, and what went wrong. */
class Round {
  halted = false;
  readonly problems: string[] = [];
  /** The requests the kill caught in flight. */
  readonly unanswered: string[] = [];
  /** Org-wide invalidations: when each was sent, and when its answer came (if it did). */
  readonly invalidations: { sentAt: number; answeredAt?: number }[] = [];
  /** Sessions that were fully signed in, with the time their sign-in started. */
  readonly liveSessions: { client: Client; startedAt: number }[] = [];
  /** Sessions whose logout was acknowledged. */
  readonly endedSessions: Client[] = [];
  /** A signed-in session per person, reused within the round. */
  readonly sessions = new Map<string, Client>();
  readonly acknowledged = new Map<string, number>();
  /** Everyone a lane picked: they are the ones the kill may have caught. */
  readonly touched = new Set<Person>();
  readonly isHalted = () => this.halted;

  count(operation: string): void {
    this.acknowledged.set(operation, (this.acknowledged.get(operation) ?? 0) + 1);
  }
}

class UnexpectedAnswer extends Error {
  override name = 'UnexpectedAnswer';
}

function expectKind(what: string, answer: Answer, kinds: string[]): string {
  const got = kind(answer);
  if (!kinds.includes(got)) {
    throw new UnexpectedAnswer(`${what}: ${got} ${JSON.stringify(answer.body)}`);
  }
  return got;
}

/** Lanes leave a few recovery codes to each person for the checks after the restart. */
function hasSpareCode(person: Person): boolean {
  return person.totp?.available() === true || person.unused.length > 4;
}

function pick<T>(items: T[]): T | undefined {
  return items.length === 0 ? undefined : items[randomInt(items.length)];
}

test(
  'SIGKILLed three times under load, the service keeps all it acknowledged and nothing half-done',
  {
    timeout: 240_000,
  },
  async (t) => {
    const started = Date.now();
    // The service mails through a server of the test's own, which survives a client killed mid-mail.
    const mailbox = await startMailbox(t);
    const service = await Service.start(t, { env: { SMTP_URL: mailbox.url } });
    const world = await seed(service, mailbox);
    t.diagnostic(`seeded in ${Date.now() - started} ms`);

    for (let n = 1; n <= ROUNDS; n += 1) {
      const round = new Round();
      const lanes = [
        lane(round, 'enroll 1', () => enrollStep(world, round)),
        lane(round, 'enroll 2', () => enrollStep(world, round)),
        lane(round, 'verify 1', () => verifyStep(world, round)),
        lane(round, 'verify 2', () => verifyStep(world, round)),
        lane(round, 'password', () => passwordStep(world, round)),
        lane(round, 'policy', () => policyStep(world, round)),
      ];
      const delay = randomInt(LOAD_MS[0], LOAD_MS[1]);
      await sleep(delay);
      round.halted = true;
      const left = await crashInspectRestart(service, async (db) => ({
        broken: await brokenInvariants(db),
        halfDone: await halfDoneRows(db),
        passwordChanges: await passwordChangesByUser(db),
      }));
      const restartedAt = Date.now();
      await Promise.all(lanes);
      t.diagnostic(
        `round ${n}: killed after ${delay} ms; acknowledged ${JSON.stringify(Object.fromEntries(round.acknowledged))}; in flight: ${round.unanswered.join(', ')}`,
      );
      assert.deepEqual(round.problems, [], 'every answer under load was one the test expects');
      assert.deepEqual(left.broken, [], 'the kill left no broken invariant');
      assert.deepEqual(left.halfDone, [], 'the kill left nothing half-done');
      for (const [id, changes] of world.passwordChanges) {
        const recorded = left.passwordChanges.get(id) ?? 0;
        assert.ok(
          recorded >= changes.acknowledged && recorded <= changes.acknowledged + changes.unanswered,
          `user ${id}: ${recorded} password changes recorded, ${JSON.stringify(changes)} sent`,
        );
      }
      // Every person the load touched is checked; after the last kill, everyone.
      await checkAfterRestart(world, round, n === ROUNDS);
      t.diagnostic(
        `round ${n}: restarted at ${restartedAt - started} ms, checked at ${Date.now() - started} ms`,
      );
    }
    t.diagnostic(`${ROUNDS} kills in ${Date.now() - started} ms`);
  },
);

/**
 * The same race without a kill: a confirmation sent twice at once (a double submit) must enroll
 * once, and the answer that said 200 must hold. PGlite runs one transaction at a time, so the
 * race exists only on PostgreSQL.
 */
test('a TOTP confirmation sent several times at once enrolls once and keeps what it answered', async (t) => {
  if (!TEST_DATABASE_URL) {
    t.skip('needs PORTCULLIS_TEST_DATABASE_URL: PGlite never runs two transactions at once');
    return;
  }
  const service = await Service.start(t);
  const admin = await service.admin();
  const members = [];
  for (let i = 0; i < DOUBLE_SUBMITS; i += 1) members.push(await service.createUser(admin));
  await service.setPolicy(admin, 'enabled');
  for (const member of members) {
    const client = service.client(0);
    assert.equal((await client.signIn(member.email, member.password)).status, 200);
    const setup = await call(client, 'POST', '/me/mfa/totp/setup', {});
    assert.equal(setup.status, 200, JSON.stringify(setup.body));
    const totp = new Totp(setup.body.secret as string);
    service.secrets.add(totp.secret);
    const code = totp.codeNow()!;
    service.secrets.add(code);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => call(client, 'POST', '/me/mfa/totp/confirm', { code })),
    );
    const kinds = answers.map(kind).sort();
    assert.deepEqual(kinds, ['200', ...Array(5).fill('409 no_pending_setup')]);
    const me = await call(client, 'GET', '/me');
    const mfa = me.body.mfa as { methods: { type: string }[]; recovery_codes_remaining: number };
    assert.deepEqual(
      mfa.methods.map((m) => m.type),
      ['totp'],
      `${member.email}: the enrollment answered 200 is there`,
    );
    assert.equal(mfa.recovery_codes_remaining, 10);
  }
  assert.deepEqual(await service.inspectDatabase(brokenInvariants), []);
});

// ---------------------------------------------------------------------------------------------
// Seeding: an org on "enabled", admins and members, most of them with an authenticator.

async function seed(service: Service, mailbox: Mailbox): Promise<World> {
  const admin = await service.admin();
  // The other admins are made while MFA is still off: with it, a new admin asks for a step-up.
  const adminAccounts: { email: string; password: string; id: string }[] = [];
  for (let i = 1; i < ADMINS; i += 1) {
    adminAccounts.push(await service.createUser(admin, { role: 'admin' }));
  }
  await service.setPolicy(admin, 'enabled');
  const first = newPerson({ ...(await whoAmI(admin)), password: ADMIN.password });
  await enrollNow(service, admin, first);
  const enrolled = async (person: Person) => {
    const client = service.client(0);
    const signedIn = await client.signIn(person.email, person.password);
    assert.equal(signedIn.status, 200, await signedIn.clone().text());
    await enrollNow(service, client, person);
    return person;
  };
  const create = async (role: 'member', enroll: boolean) => {
    const person = newPerson(await service.createUser(admin, { role }));
    return enroll ? enrolled(person) : person;
  };
  const inBatches = async (count: number, make: () => Promise<Person>) => {
    const people: Person[] = [];
    while (people.length < count) {
      const batch = Math.min(4, count - people.length);
      people.push(...(await Promise.all(Array.from({ length: batch }, make))));
    }
    return people;
  };
  const admins = [
    first,
    ...(await inBatches(ADMINS - 1, () => enrolled(newPerson(adminAccounts.shift()!)))),
  ];
  const verifiers = await inBatches(VERIFIERS, () => create('member', true));
  const changers = await inBatches(CHANGERS, () => create('member', true));
  const enrollers = await inBatches(ENROLLERS, () => create('member', false));
  return {
    service,
    mailbox,
    admins,
    verifiers,
    changers,
    enrollers,
    policy: 'enabled',
    nextStrengthening: 'invalidate',
    weakenedAt: new Map(),
    passwordChanges: new Map(changers.map((p) => [p.id, { acknowledged: 0, unanswered: 0 }])),
  };
}

async function whoAmI(client: Client): Promise<{ id: string; email: string }> {
  const me = await client.get('/me');
  assert.equal(me.status, 200);
  const { user } = (await me.json()) as { user: { id: string; email: string } };
  return user;
}

/** TOTP setup and confirmation outside the load, with the codes the test keeps. */
async function enrollNow(service: Service, client: Client, person: Person): Promise<void> {
  const setup = await call(client, 'POST', '/me/mfa/totp/setup', {});
  assert.equal(setup.status, 200, JSON.stringify(setup.body));
  const totp = new Totp(setup.body.secret as string);
  service.secrets.add(totp.secret);
  const code = totp.codeNow()!;
  service.secrets.add(code);
  const confirm = await call(client, 'POST', '/me/mfa/totp/confirm', { code });
  assert.equal(confirm.status, 200, JSON.stringify(confirm.body));
  person.totp = totp;
  person.unused = confirm.body.recovery_codes as string[];
  for (const recoveryCode of person.unused) service.secrets.add(recoveryCode);
  person.enrollment = 'enrolled';
}

// ---------------------------------------------------------------------------------------------
// The load: lanes of sequential requests, each lane one browser, all lanes at once.

/** Runs `step` until the round is halted or the step has nothing left to do. */
async function lane(round: Round, name: string, step: () => Promise<boolean>): Promise<void> {
  try {
    while (!round.halted && (await step())) {
      // next step
    }
  } catch (error) {
    if (error instanceof Halted) return;
    if (error instanceof Unanswered && round.halted) {
      round.unanswered.push(error.message.split(':')[0]!);
      return;
    }
    round.problems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A password sign-in on instance 0; the person stays busy for the caller. */
async function signIn(world: World, round: Round, person: Person, password = person.password) {
  const client = world.service.client(0);
  const startedAt = performance.now();
  const answer = await call(
    client,
    'POST',
    '/auth/login',
    { org: world.service.org, email: person.email, password },
    round.isHalted,
  );
  return { client, answer, startedAt };
}

/** Password and second factor; null when the session was ended meanwhile or no code is at hand. */
async function signInFully(world: World, round: Round, person: Person) {
  if (!canVerify(person)) return null;
  const { client, answer, startedAt } = await signIn(world, round, person);
  expectKind(`sign-in of ${person.email}`, answer, ['200']);
  if (answer.body.status !== 'mfa_required') {
    throw new UnexpectedAnswer(`sign-in of an enrolled user: ${JSON.stringify(answer.body)}`);
  }
  const factor = secondFactor(world.service, person)!;
  const verified = await call(client, 'POST', '/auth/mfa/verify', factor, round.isHalted);
  if (expectKind('verify', verified, ['200', '401 unauthenticated']) !== '200') return null;
  accepted(person, factor);
  round.count('verify');
  return { client, startedAt };
}

async function sessionOf(world: World, round: Round, person: Person): Promise<Client | null> {
  const kept = round.sessions.get(person.id);
  if (kept) return kept;
  const signedIn = await signInFully(world, round, person);
  if (signedIn) round.sessions.set(person.id, signedIn.client);
  return signedIn?.client ?? null;
}

async function withPerson(
  round: Round,
  candidates: Person[],
  use: (person: Person) => Promise<boolean>,
): Promise<boolean> {
  const person = pick(candidates.filter((p) => !p.busy));
  if (!person) return false;
  round.touched.add(person);
  person.busy = true;
  try {
    return await use(person);
  } finally {
    person.busy = false;
  }
}

/** Sign in, set up an authenticator, confirm it with its first code. */
function enrollStep(world: World, round: Round): Promise<boolean> {
  const candidates = world.enrollers.filter((p) => p.enrollment === 'none');
  return withPerson(round, candidates, async (person) => {
    const { client, answer } = await signIn(world, round, person);
    expectKind('sign-in to enroll', answer, ['200']);
    const setup = await call(client, 'POST', '/me/mfa/totp/setup', {}, round.isHalted);
    if (expectKind('TOTP setup', setup, ['200', '401 unauthenticated']) !== '200') return true;
    const totp = new Totp(setup.body.secret as string);
    world.service.secrets.add(totp.secret);
    const code = totp.codeNow()!;
    world.service.secrets.add(code);
    person.pendingTotp = totp;
    let confirm: Answer;
    try {
      confirm = await call(client, 'POST', '/me/mfa/totp/confirm', { code }, round.isHalted);
    } catch (error) {
      if (error instanceof Unanswered) person.enrollment = 'unknown';
      throw error;
    }
    if (expectKind('TOTP confirm', confirm, ['200', '401 unauthenticated']) !== '200') return true;
    person.pendingTotp = undefined;
    person.totp = totp;
    person.unused = confirm.body.recovery_codes as string[];
    for (const recoveryCode of person.unused) world.service.secrets.add(recoveryCode);
    person.enrollment = 'enrolled';
    person.newlyEnrolled = true;
    person.acceptedTotpCode = code;
    round.count('enroll');
    return true;
  });
}

/** Sign in with a second factor, read /me, and log out or keep the session. */
function verifyStep(world: World, round: Round): Promise<boolean> {
  const candidates = [...world.verifiers, ...world.enrollers].filter(
    (p) => p.enrollment === 'enrolled' && p.codesKnown && !p.newlyEnrolled && hasSpareCode(p),
  );
  return withPerson(round, candidates, async (person) => {
    const signedIn = await signInFully(world, round, person);
    if (!signedIn) return true;
    const me = await call(signedIn.client, 'GET', '/me', undefined, round.isHalted);
    if (expectKind('GET /me', me, ['200', '401 unauthenticated']) !== '200') return true;
    if (randomInt(2) === 0) {
      round.liveSessions.push(signedIn);
      return true;
    }
    const out = await call(signedIn.client, 'POST', '/auth/logout', {}, round.isHalted);
    // 401: an org-wide invalidation from the policy lane ended the session first.
    expectKind('logout', out, ['204', '401 unauthenticated']);
    round.endedSessions.push(signedIn.client);
    round.count('logout');
    return true;
  });
}

/** Change the password, with a step-up code, in a session kept for the round. */
function passwordStep(world: World, round: Round): Promise<boolean> {
  const candidates = world.changers.filter((p) => p.maybePassword === undefined && hasSpareCode(p));
  return withPerson(round, candidates, async (person) => {
    const client = await sessionOf(world, round, person);
    const factor = client && secondFactor(world.service, person);
    if (!client || !factor) return true;
    const newPassword = `pw ${randomBytes(9).toString('base64url')}`;
    world.service.secrets.add(newPassword);
    const changes = world.passwordChanges.get(person.id)!;
    let answer: Answer;
    try {
      answer = await call(
        client,
        'POST',
        '/me/password',
        { current_password: person.password, new_password: newPassword, verification: factor },
        round.isHalted,
      );
    } catch (error) {
      if (error instanceof Unanswered) {
        person.maybePassword = newPassword;
        changes.unanswered += 1;
      }
      throw error;
    }
    if (expectKind('password change', answer, ['204', '401 unauthenticated']) !== '204') {
      round.sessions.delete(person.id);
      return true;
    }
    accepted(person, factor);
    person.oldPassword = person.password;
    person.password = newPassword;
    changes.acknowledged += 1;
    round.count('password');
    return true;
  });
}

/** One policy change at a time: enabled → required (PUT), required → enabled (emailed code). */
async function policyStep(world: World, round: Round): Promise<boolean> {
  if (world.policy === 'enabled') {
    return withPerson(round, world.admins.filter(hasSpareCode), (admin) =>
      strengthen(world, round, admin),
    );
  }
  const now = Date.now();
  const ready = world.admins.filter(
    (a) => hasSpareCode(a) && now - (world.weakenedAt.get(a.id) ?? 0) > WEAKEN_RESEND_MS,
  );
  return withPerson(round, ready, (admin) => weaken(world, round, admin));
}

async function strengthen(world: World, round: Round, admin: Person): Promise<boolean> {
  const client = await sessionOf(world, round, admin);
  if (!client) return true;
  const sessions = world.nextStrengthening;
  const invalidation = { sentAt: performance.now() } as { sentAt: number; answeredAt?: number };
  if (sessions === 'invalidate') round.invalidations.push(invalidation);
  world.policyInFlight = 'required';
  const answer = await call(
    client,
    'PUT',
    '/org/mfa/policy',
    { policy: 'required', sessions },
    round.isHalted,
  );
  world.policyInFlight = undefined;
  if (expectKind('strengthening', answer, ['200', '401 unauthenticated']) !== '200') {
    round.sessions.delete(admin.id);
    return true;
  }
  invalidation.answeredAt = performance.now();
  world.policy = 'required';
  world.nextStrengthening = sessions === 'invalidate' ? 'keep' : 'invalidate';
  round.count(`strengthen (${sessions})`);
  return true;
}

async function weaken(world: World, round: Round, admin: Person): Promise<boolean> {
  const client = await sessionOf(world, round, admin);
  if (!client) return true;
  const seen = codeMailCount(world.mailbox, admin.email);
  world.weakenedAt.set(admin.id, Date.now());
  const request = await call(
    client,
    'POST',
    '/org/mfa/policy/weaken',
    { policy: 'enabled' },
    round.isHalted,
  );
  const got = expectKind('weakening request', request, [
    '202',
    '401 unauthenticated',
    '429 rate_limited',
  ]);
  if (got === '401 unauthenticated') round.sessions.delete(admin.id);
  if (got !== '202') return true;
  const code = await mailedCode(world.service, world.mailbox, admin.email, seen, round.isHalted);
  world.policyInFlight = 'enabled';
  const confirm = await call(
    client,
    'POST',
    '/org/mfa/policy/weaken/confirm',
    { request_id: request.body.request_id, code },
    round.isHalted,
  );
  world.policyInFlight = undefined;
  expectKind('weakening confirmation', confirm, ['200']);
  world.policy = 'enabled';
  round.count('weaken');
  return true;
}

// ---------------------------------------------------------------------------------------------
// After the restart: everything acknowledged is there, everything unanswered is all or nothing.

async function checkAfterRestart(world: World, round: Round, everyone: boolean): Promise<void> {
  const due = (p: Person) => everyone || round.touched.has(p);
  for (const { client, startedAt } of round.liveSessions) {
    const me = await client.on(0).get('/me');
    const mustLive = round.invalidations.every(
      (i) => i.answeredAt !== undefined && i.answeredAt < startedAt,
    );
    if (mustLive) assert.equal(me.status, 200, 'a signed-in session survives the kill');
    else assert.ok([200, 401].includes(me.status), `session after an invalidation: ${me.status}`);
  }
  for (const client of round.endedSessions) {
    const me = await client.on(0).get('/me');
    assert.equal(me.status, 401, 'a session whose logout was acknowledged stays ended');
  }

  const enrolledPeople = [...world.admins, ...world.verifiers, ...world.changers];
  const [checker, ...others] = enrolledPeople;
  const admin = await checkEnrolled(world, checker!);
  await inParallel(others.filter(due), (p) => checkEnrolled(world, p));
  const policy = (await orgMfa(admin)).policy;
  const allowed = [world.policy, world.policyInFlight].filter(Boolean);
  assert.ok(allowed.includes(policy), `policy ${policy}, expected one of ${allowed.join(', ')}`);
  world.policy = policy;
  world.policyInFlight = undefined;

  await inParallel(world.enrollers.filter(due), (p) => checkEnroller(world, p));
  const people = [...enrolledPeople, ...world.enrollers];
  const summary = await orgMfa(admin);
  assert.equal(summary.users_total, people.length);
  assert.equal(
    summary.users_enrolled,
    people.filter((p) => p.enrollment === 'enrolled').length,
    'the enrolled count matches the acknowledged and resolved enrollments',
  );
}

async function orgMfa(admin: Client) {
  const answer = await call(admin, 'GET', '/org/mfa');
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body as { policy: Policy; users_total: number; users_enrolled: number };
}

async function inParallel<T, R>(items: T[], check: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += 4) {
    results.push(...(await Promise.all(items.slice(i, i + 4).map(check))));
  }
  return results;
}

/** A password sign-in after the restart; resolves an unanswered password change first. */
async function passwordSignIn(world: World, person: Person): Promise<Client> {
  const attempt = async (password: string) => {
    const client = world.service.client(0);
    const answer = await call(client, 'POST', '/auth/login', {
      org: world.service.org,
      email: person.email,
      password,
    });
    return { client, answer };
  };
  if (person.maybePassword) {
    const { answer } = await attempt(person.maybePassword);
    if (answer.status === 200) {
      person.oldPassword = person.password;
      person.password = person.maybePassword;
      world.passwordChanges.get(person.id)!.acknowledged += 1;
    } else {
      assert.equal(kind(answer), '401 invalid_credentials');
    }
    world.passwordChanges.get(person.id)!.unanswered -= 1;
    person.maybePassword = undefined;
  }
  if (person.oldPassword) {
    const { answer } = await attempt(person.oldPassword);
    assert.equal(kind(answer), '401 invalid_credentials', 'a replaced password stays replaced');
    person.oldPassword = undefined;
  }
  const { client, answer } = await attempt(person.password);
  assert.equal(answer.status, 200, `${person.email}: ${JSON.stringify(answer.body)}`);
  return client;
}

/** An enrolled person: asked for the factor, its used codes dead, its unused codes counted. */
async function checkEnrolled(world: World, person: Person): Promise<Client> {
  const client = await passwordSignIn(world, person);
  const me = await call(client, 'GET', '/me');
  assert.equal(me.body.session && (me.body.session as { status: string }).status, 'mfa_required');
  const mfa = me.body.mfa as { methods: { type: string }[]; recovery_codes_remaining: number };
  assert.deepEqual(
    mfa.methods.map((m) => m.type),
    ['totp'],
  );
  if (person.codesKnown) {
    const least = person.unused.length;
    const most = least + person.unsure.length;
    assert.ok(
      mfa.recovery_codes_remaining >= least && mfa.recovery_codes_remaining <= most,
      `${person.email}: ${mfa.recovery_codes_remaining} recovery codes left, expected ${least} to ${most}`,
    );
  }
  const replays = [
    person.acceptedTotpCode && { method: 'totp', code: person.acceptedTotpCode },
    person.spent.at(-1) && { method: 'recovery_code', code: person.spent.at(-1) },
  ];
  for (const replay of replays) {
    if (!replay) continue;
    const answer = await call(client, 'POST', '/auth/mfa/verify', replay);
    assert.equal(kind(answer), '401 invalid_code', `a used ${replay.method} is refused`);
  }
  person.acceptedTotpCode = undefined;
  // A new authenticator must prove itself; otherwise any code will do, and when the test has
  // spent every code it knows (a landed enrollment leaves no recovery codes known), it waits for
  // the authenticator's next step as its owner would.
  const factor = (!person.newlyEnrolled && secondFactor(world.service, person)) || {
    method: 'totp' as const,
    code: await person.totp!.nextCode(),
  };
  world.service.secrets.add(factor.code);
  const verified = await call(client, 'POST', '/auth/mfa/verify', factor);
  assert.equal(verified.status, 200, `${person.email}: ${JSON.stringify(verified.body)}`);
  accepted(person, factor);
  if (person.newlyEnrolled) {
    // Its recovery codes were committed with it: one of them signs in.
    const again = await passwordSignIn(world, person);
    const recovery = { method: 'recovery_code' as const, code: person.unused.pop()! };
    const byCode = await call(again, 'POST', '/auth/mfa/verify', recovery);
    assert.equal(byCode.status, 200, `a recovery code of a new enrollment: ${kind(byCode)}`);
    accepted(person, recovery);
    person.newlyEnrolled = false;
  }
  return client;
}

/** A person of the enrollment pool: enrolled, half-way or not at all, as the answers allow. */
async function checkEnroller(world: World, person: Person): Promise<void> {
  if (person.enrollment === 'enrolled') {
    await checkEnrolled(world, person);
    return;
  }
  const client = await passwordSignIn(world, person);
  const me = await call(client, 'GET', '/me');
  const status = (me.body.session as { status: string }).status;
  const mfa = me.body.mfa as { methods: { type: string }[]; recovery_codes_remaining: number };
  if (person.enrollment === 'unknown' && status === 'mfa_required') {
    // The unanswered confirmation landed: all of it, the recovery codes included.
    assert.deepEqual(
      mfa.methods.map((m) => m.type),
      ['totp'],
    );
    assert.equal(mfa.recovery_codes_remaining, 10);
    const code = person.pendingTotp!.codeNow()!;
    world.service.secrets.add(code);
    const verified = await call(client, 'POST', '/auth/mfa/verify', { method: 'totp', code });
    assert.equal(verified.status, 200, 'the authenticator of the landed confirmation works');
    person.totp = person.pendingTotp;
    person.codesKnown = false;
    person.enrollment = 'enrolled';
  } else {
    // Not enrolled at all: no method, no recovery code, and sent to enrollment under required.
    assert.deepEqual(mfa.methods, [], `${person.email} has no method`);
    assert.equal(mfa.recovery_codes_remaining, 0);
    const expected = world.policy === 'required' ? 'enrollment_required' : 'authenticated';
    assert.equal(status, expected, `an unenrolled member under "${world.policy}"`);
    person.enrollment = 'none';
  }
  person.pendingTotp = undefined;
}

import { consoleReturnPath } from '../../../src/core/return-path.ts';
import { api, type Me, type VerificationMethod } from '../api.ts';

/**
 * What the pre-sign-in screens share: the remembered org, the methods the login answer offered
 * (kept for the MFA challenge), where to go after sign-in, and signing out of a half-done session.
 */

const ORG_KEY = 'portcullis.org';
const METHODS_KEY = 'portcullis.mfa-methods';
const SIGNED_IN_KEY = 'portcullis.signed-in';

function store(kind: 'local' | 'session'): Storage | null {
  try {
    return kind === 'local' ? window.localStorage : window.sessionStorage;
  } catch {
    return null; // storage disabled by the browser: the console still works, it just forgets
  }
}

export function rememberedOrg(): string {
  return store('local')?.getItem(ORG_KEY) ?? '';
}

export function rememberOrg(slug: string): void {
  store('local')?.setItem(ORG_KEY, slug);
}

const VERIFICATION_METHODS: VerificationMethod[] = ['totp', 'email', 'recovery_code'];

/** The methods of the login answer, for the MFA challenge (survives a reload of /verify). */
export function keepMethods(methods: VerificationMethod[]): void {
  store('session')?.setItem(METHODS_KEY, JSON.stringify(methods));
}

export function keptMethods(): VerificationMethod[] | null {
  try {
    const value = JSON.parse(store('session')?.getItem(METHODS_KEY) ?? 'null') as unknown;
    if (!Array.isArray(value)) return null;
    return value.filter((m): m is VerificationMethod =>
      VERIFICATION_METHODS.includes(m as VerificationMethod),
    );
  } catch {
    return null;
  }
}

export function forgetMethods(): void {
  store('session')?.removeItem(METHODS_KEY);
}

/**
 * What the user may verify with, from the profile: each active method the org allows, then
 * recovery codes when some are left (a method the org turned off is not offered).
 */
export function methodsFromMe(me: Me): VerificationMethod[] {
  if (me.mfa.policy === 'disabled' || me.user.sso) return [];
  const methods: VerificationMethod[] = me.mfa.methods
    .map((m) => m.type)
    .filter((type) => me.mfa.allowed_methods.includes(type));
  if (me.mfa.recovery_codes_remaining > 0) methods.push('recovery_code');
  return methods;
}

/**
 * A flag that this browser had a session: "Your session expired" is only said to someone who was
 * signed in, not to a first visit (which also lands on /sign-in?expired=1 when /me answers 401).
 */
export function markSignedIn(): void {
  store('local')?.setItem(SIGNED_IN_KEY, '1');
}

export function hadSession(): boolean {
  return store('local')?.getItem(SIGNED_IN_KEY) === '1';
}

export function forgetSession(): void {
  store('local')?.removeItem(SIGNED_IN_KEY);
}

/** Pages that are steps of signing in: never a place to return to afterwards. */
const SIGN_IN_STEPS = [
  '/sign-in',
  '/setup',
  '/verify',
  '/enroll',
  '/forgot-password',
  '/reset-password',
];

/**
 * `next` only when it is a page of this console (the server's own rule for SSO return paths: not
 * //evil.example, nor /..//evil.example, which parses to it) and not a sign-in step.
 */
export function safeNext(raw: string | null): string | null {
  const path = consoleReturnPath(raw);
  if (!path || SIGN_IN_STEPS.includes(path.split('?')[0] ?? '')) return null;
  return path;
}

/** `path?next=…` when there is a next, for the steps between sign-in and the console. */
export function withNext(path: string, next: string | null): string {
  return next ? `${path}?next=${encodeURIComponent(next)}` : path;
}

export function minutesText(seconds: number | undefined, fallbackSeconds = 900): string {
  const minutes = Math.max(1, Math.ceil((seconds ?? fallbackSeconds) / 60));
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** Ends the session (even a half-done one) and returns to sign-in. */
export async function signOut(
  signedOut: () => void,
  navigate: (to: string, options?: { replace?: boolean }) => void,
): Promise<void> {
  await api<null>('POST', '/auth/logout');
  forgetMethods();
  forgetSession();
  signedOut();
  navigate('/sign-in', { replace: true });
}

/**
 * Every state-changing operation a fully signed-in session can call, sorted into two lists: the
 * actions that ask for a fresh second factor (step-up) whenever MFA applies to the caller, and the
 * operations that do not, each with its reason. checkStepUp takes the name of the action it
 * guards, and the audit log records it (`verified_for`). The security suite holds the server to
 * these lists: a new route that is in neither fails it, each sensitive route is called without a
 * verification and must answer 403 verification_required naming its action, and the README's list
 * is checked against this one. The lists answer the question "what can someone who stole a
 * signed-in session, but not the second factor, still do?".
 */

export type SensitiveAction = {
  /** The routes that perform it, as 'METHOD /api/v1/path' with {params}. */
  routes: readonly string[];
  reason: string;
  /** Set when only some calls of the operation are sensitive. */
  when?: string;
};

export const SENSITIVE_ACTIONS = {
  change_password: {
    routes: ['POST /api/v1/me/password'],
    reason: 'a new password locks the owner out and, with the second factor, takes the account',
  },
  add_method: {
    routes: ['POST /api/v1/me/mfa/totp/setup', 'POST /api/v1/me/mfa/email/setup'],
    reason:
      'a second method is a second way in, and an authenticator of the thief’s own would outlive the stolen session',
    when: 'the user already has a factor (a new or replacing method)',
  },
  disable_method: {
    routes: ['POST /api/v1/me/mfa/{method}/disable'],
    reason: 'removes a factor the owner relies on',
  },
  regenerate_recovery_codes: {
    routes: ['POST /api/v1/me/recovery-codes'],
    reason: 'fresh recovery codes are ten second factors the thief could carry away',
  },
  create_admin: {
    routes: ['POST /api/v1/org/users'],
    reason:
      'a new admin is a second account the thief controls, with its own factor: every later step-up would be theirs',
    when: 'the new user’s role is admin',
  },
  reset_user_mfa: {
    routes: ['POST /api/v1/org/users/{id}/mfa/reset'],
    reason: 'strips another user of their second factor',
  },
  convert_user_to_sso: {
    routes: ['POST /api/v1/org/users/{id}/convert-to-sso'],
    reason: 'moves another user’s sign-in to the identity provider',
  },
  change_allowed_methods: {
    routes: ['PUT /api/v1/org/mfa/methods'],
    reason: 'turning a method off can leave users with fewer ways to verify',
  },
  change_sso_settings: {
    routes: ['PUT /api/v1/org/sso'],
    reason:
      'the identity provider decides who signs in as the org’s SSO users: a connection to a provider of the thief’s own signs in as any of them, and can create new users',
  },
  remove_sso: {
    routes: ['POST /api/v1/org/sso/remove'],
    reason: 'SSO users can no longer sign in',
  },
  register_app: {
    routes: ['POST /api/v1/org/apps'],
    reason:
      'an app of the thief’s own, with redirect URIs of their choosing, receives the sign-ins of every user of the org who follows its link',
  },
  change_app: {
    routes: ['PUT /api/v1/org/apps/{client_id}'],
    reason:
      'the redirect URIs decide where an app’s sign-ins are sent: one of the thief’s added to a real app receives its users’ codes',
  },
  rotate_app_secret: {
    routes: ['POST /api/v1/org/apps/{client_id}/secret'],
    reason:
      'the new secret, shown once, lets whoever holds it redeem the app’s codes and tokens, and stops the real app',
  },
  remove_app: {
    routes: ['POST /api/v1/org/apps/{client_id}/remove'],
    reason: 'the app’s users can no longer sign in to it, and its tokens stop working',
  },
} as const satisfies Record<string, SensitiveAction>;

export type SensitiveActionName = keyof typeof SENSITIVE_ACTIONS;

export const SENSITIVE_ACTION_NAMES = Object.keys(SENSITIVE_ACTIONS) as SensitiveActionName[];

/** The sensitive action a route performs, if any. */
export function sensitiveActionOf(route: string): SensitiveActionName | undefined {
  return SENSITIVE_ACTION_NAMES.find((name) =>
    (SENSITIVE_ACTIONS[name].routes as readonly string[]).includes(route),
  );
}

/**
 * What a stolen fully signed-in session can do without a fresh factor, and why that is accepted.
 * Reading (GET) is what a session is for and is not listed.
 */
export const ACTIONS_WITHOUT_STEP_UP: Readonly<Record<string, string>> = {
  'POST /api/v1/auth/logout': 'ends only the stolen session itself',
  'POST /api/v1/auth/mfa/verify':
    'only a pending session uses it, and it asks for the second factor itself',
  'POST /api/v1/auth/reauthenticate':
    'asks for the second factor itself; a success only makes the session’s authentication fresher',
  'POST /api/v1/auth/verification/{method}':
    'sends a code to the owner’s own mailbox, at most once per 30 s; the thief never sees it',
  'POST /api/v1/me/mfa/totp/confirm':
    'confirms a setup that already passed step-up (or needed none), with a code of the new factor',
  'POST /api/v1/me/mfa/email/confirm':
    'confirms a setup that already passed step-up (or needed none), with the code mailed to the owner',
  'POST /api/v1/org/users':
    'a new member has no power over anyone; the audit log names who created whom (a new admin is sensitive, above)',
  'PUT /api/v1/org/mfa/policy':
    'only strengthens the policy, and a stronger policy gives nobody a way in: at worst every session of the org ends or members must enroll, which the audit log names. Weakening needs the code emailed to the acting admin',
  'POST /api/v1/org/mfa/policy/weaken':
    'only emails a code to the acting admin: nothing changes without that code',
  'POST /api/v1/org/mfa/policy/weaken/confirm':
    'needs the code emailed to the acting admin, which a stolen session does not have',
  'POST /api/v1/org/sso/test': 'reads the saved connection’s discovery document; changes nothing',
};

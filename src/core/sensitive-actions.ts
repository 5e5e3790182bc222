/**
 * Every state-changing operation a fully signed-in session can call, sorted into two lists: those
 * that ask for a fresh second factor (step-up) whenever MFA applies to the caller, and those that
 * do not, each with its reason. The security suite holds the server to these lists: a new route
 * that is in neither fails it, and each sensitive one is called without a verification and must
 * answer 403 verification_required. The lists answer the question "what can someone who stole a
 * signed-in session, but not the second factor, still do?".
 */

export type SensitiveAction = {
  reason: string;
  /** Set when only some calls of the operation are sensitive. */
  when?: string;
};

export const SENSITIVE_ACTIONS: Readonly<Record<string, SensitiveAction>> = {
  'POST /api/v1/me/password': {
    reason: 'a new password locks the owner out and, with the second factor, takes the account',
  },
  'POST /api/v1/me/mfa/totp/setup': {
    reason: 'an authenticator of the thief’s own would outlive the stolen session',
    when: 'the user already has a factor (a new or replacing method)',
  },
  'POST /api/v1/me/mfa/email/setup': {
    reason: 'a second method is a second way in',
    when: 'the user already has a factor',
  },
  'POST /api/v1/me/mfa/{method}/disable': {
    reason: 'removes a factor the owner relies on',
  },
  'POST /api/v1/me/recovery-codes': {
    reason: 'fresh recovery codes are ten second factors the thief could carry away',
  },
  'POST /api/v1/org/users': {
    reason:
      'a new admin is a second account the thief controls, with its own factor: every later step-up would be theirs',
    when: 'the new user’s role is admin',
  },
  'POST /api/v1/org/users/{id}/mfa/reset': {
    reason: 'strips another user of their second factor',
  },
  'POST /api/v1/org/users/{id}/convert-to-sso': {
    reason: 'moves another user’s sign-in to the identity provider',
  },
  'PUT /api/v1/org/mfa/methods': {
    reason: 'turning a method off can leave users with fewer ways to verify',
  },
  'PUT /api/v1/org/sso': {
    reason: 'the identity provider decides who signs in as the org’s SSO users',
  },
  'POST /api/v1/org/sso/remove': {
    reason: 'SSO users can no longer sign in',
  },
};

/**
 * What a stolen fully signed-in session can do without a fresh factor, and why that is accepted.
 * Reading (GET) is what a session is for and is not listed.
 */
export const ACTIONS_WITHOUT_STEP_UP: Readonly<Record<string, string>> = {
  'POST /api/v1/auth/logout': 'ends only the stolen session itself',
  'POST /api/v1/auth/mfa/verify':
    'only a pending session uses it, and it asks for the second factor itself',
  'POST /api/v1/auth/verification/email':
    'sends a code to the owner’s own mailbox, at most once per 30 s; the thief never sees it',
  'POST /api/v1/me/mfa/totp/confirm':
    'confirms a setup that already passed step-up (or needed none), with a code of the new factor',
  'POST /api/v1/me/mfa/email/confirm':
    'confirms a setup that already passed step-up (or needed none), with the code mailed to the owner',
  'POST /api/v1/org/users':
    'a new member has no power over anyone; the audit log names who created whom (a new admin is sensitive, above)',
  'PUT /api/v1/org/mfa/policy':
    'only strengthens the policy; weakening needs the code emailed to the acting admin',
  'POST /api/v1/org/mfa/policy/weaken':
    'only emails a code to the acting admin: nothing changes without that code',
  'POST /api/v1/org/mfa/policy/weaken/confirm':
    'needs the code emailed to the acting admin, which a stolen session does not have',
  'POST /api/v1/org/sso/test': 'reads the saved connection’s discovery document; changes nothing',
};

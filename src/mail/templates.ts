import type { MfaMethod } from '../core/mfa-policy.ts';
import type { MailMessage } from './mailer.ts';

export type Content = { subject: string; lines: string[] };

const METHOD_NAMES: Record<MfaMethod, string> = { totp: 'Authenticator App', email: 'Email' };

export type CodePurpose = 'login' | 'step_up' | 'enroll_email' | 'org_policy';

const CODE_REASONS: Record<CodePurpose, string> = {
  login: 'to finish signing in',
  step_up: 'to confirm a sensitive change to your account',
  enroll_email: 'to turn on email verification',
  org_policy: 'to confirm weakening the multi-factor authentication policy of your organization',
};

/**
 * The code is in the body only, not the subject: subjects show on locked phone screens and in
 * notification previews.
 */
export function codeMessage(
  orgName: string,
  code: string,
  purpose: CodePurpose,
  minutes: number,
): Content {
  return {
    subject: `${orgName}: your verification code`,
    lines: [
      `Your ${orgName} verification code is ${code}. Use it ${CODE_REASONS[purpose]}.`,
      `It is valid for ${minutes} minutes and works once.`,
      'If you did not ask for it, someone may know your password: change it and tell your admin.',
    ],
  };
}

export function methodEnabledMessage(orgName: string, method: MfaMethod): Content {
  return {
    subject: `${orgName}: ${METHOD_NAMES[method]} verification turned on`,
    lines: [
      `${METHOD_NAMES[method]} verification was turned on for your account, and a new set of 10 recovery codes replaced any older one.`,
      'If this was not you, contact your admin at once.',
    ],
  };
}

export function methodDisabledMessage(orgName: string, method: MfaMethod): Content {
  return {
    subject: `${orgName}: ${METHOD_NAMES[method]} verification turned off`,
    lines: [
      `${METHOD_NAMES[method]} verification was turned off for your account.`,
      'If this was not you, contact your admin at once.',
    ],
  };
}

export function mfaResetMessage(orgName: string): Content {
  return {
    subject: `${orgName}: your multi-factor authentication was reset`,
    lines: [
      'An admin of your organization reset your multi-factor authentication: your verification methods and recovery codes were removed and you were signed out everywhere.',
      'If your organization requires it, you will set up a new method at your next sign-in.',
    ],
  };
}

export function passwordChangedMessage(orgName: string): Content {
  return {
    subject: `${orgName}: your password was changed`,
    lines: [
      'The password of your account was changed, and your other sessions were signed out.',
      'If this was not you, contact your admin at once.',
    ],
  };
}

export function passwordResetMessage(orgName: string, link: string, minutes: number): Content {
  return {
    subject: `${orgName}: reset your password`,
    lines: [
      `Someone asked to reset the password of your ${orgName} account. To choose a new one, open this link within ${minutes} minutes; it works once:`,
      link,
      'Your second factor is still asked for at your next sign-in. If you did not ask for this, ignore this email: your password stays as it is.',
    ],
  };
}

export function adminAddedMessage(
  orgName: string,
  added: { name: string; email: string },
  addedBy: string | null,
  at: Date,
): Content {
  const by = addedBy ? `by ${addedBy}` : 'from the command line of the server';
  return {
    subject: `${orgName}: a new admin was added`,
    lines: [
      `${added.name} <${added.email}> was made an admin of ${orgName} ${by}, at ${at.toISOString()}.`,
      'Admins can change the sign-in rules of everyone in the organization. If you do not know about this, someone may be using an admin session: change your password, which signs out your other sessions, and check System → Audit log.',
    ],
  };
}

/** At 2 or fewer left the user is warned: with none left they cannot verify with a code. */
export const RECOVERY_CODES_LOW = 2;

export function recoveryCodeUsedMessage(orgName: string, remaining: number): Content {
  const lines = [
    `A recovery code was used to verify your account. ${remaining} of 10 remain.`,
    'If this was not you, contact your admin at once.',
  ];
  if (remaining <= RECOVERY_CODES_LOW) {
    lines.splice(
      1,
      0,
      'You are running out of recovery codes: generate a new set in User Settings → Security.',
    );
  }
  return { subject: `${orgName}: a recovery code was used`, lines };
}

/** The same content as plain text and as minimal, escaped HTML. */
export function render(to: string, content: Content): MailMessage {
  const html = `<!doctype html><html><body style="font-family:sans-serif">${content.lines
    .map((line) => `<p>${escapeHtml(line)}</p>`)
    .join('')}<p style="color:#666">Portcullis</p></body></html>`;
  return {
    to,
    subject: content.subject,
    text: `${content.lines.join('\n\n')}\n\n— Portcullis\n`,
    html,
  };
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

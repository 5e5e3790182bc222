import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { parseEmail } from '../core/validation.ts';

/** `to` is the address as stored: it is sent to exactly as it is, or not at all. */
export type MailMessage = { to: string; subject: string; text: string; html: string };

/** Delivery either worked or the mail server was unreachable or refused; the caller decides. */
export type Mailer = { send(message: MailMessage): Promise<boolean> };

/** Connection and send limits: a mail server that hangs must not hold a request for minutes. */
const SMTP_TIMEOUT_MS = 10_000;

const NOT_A_MAILBOX = 'the recipient is not a plain email address';

/**
 * The stored address as an address object, or null when it is not a bare mailbox (a row written
 * before addresses were checked this strictly). Given a string, nodemailer parses it and may find
 * a display name or a second recipient in it; an object's address it takes as the one recipient.
 */
function recipientOf(to: string): { name: string; address: string } | null {
  const parsed = parseEmail(to);
  return parsed.ok && parsed.value === to ? { name: '', address: to } : null;
}

/**
 * SMTP through nodemailer: smtp:// upgrades with STARTTLS when the server offers it, smtps:// is
 * TLS from the start; credentials ride in the URL.
 */
export function createSmtpMailer(
  smtpUrl: string,
  from: string,
  onError: (error: Error) => void,
): Mailer {
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: SMTP_TIMEOUT_MS,
    greetingTimeout: SMTP_TIMEOUT_MS,
    socketTimeout: SMTP_TIMEOUT_MS,
  });
  return {
    async send(message) {
      const to = recipientOf(message.to);
      if (!to) {
        onError(Object.assign(new Error(NOT_A_MAILBOX), { code: 'invalid_recipient' }));
        return false;
      }
      try {
        await transport.sendMail({ from, ...message, to });
        return true;
      } catch (error) {
        onError(error as Error);
        return false;
      }
    },
  };
}

/**
 * Without SMTP_URL: every message is printed to the console and written under the data dir, so
 * that `npm start` works with no mail server. For development only: codes appear in clear there.
 */
export function createDevOutbox(
  directory: string,
  print: (line: string) => void,
  now: () => Date,
): Mailer {
  let sequence = 0;
  return {
    async send(message) {
      if (!recipientOf(message.to)) {
        print(`\n[dev outbox] not sent: ${NOT_A_MAILBOX}\n`);
        return false;
      }
      mkdirSync(directory, { recursive: true, mode: 0o700 });
      sequence += 1;
      const name = `${now().toISOString().replace(/[:.]/g, '-')}-${sequence}.txt`;
      const body = `To: ${message.to}\nSubject: ${message.subject}\n\n${message.text}\n`;
      writeFileSync(join(directory, name), body, { mode: 0o600 });
      print(`\n[dev outbox] ${join(directory, name)}\n${body}`);
      return true;
    },
  };
}

import type { MailMessage, Mailer } from '../../src/mail/mailer.ts';

/** A mailer that keeps what it sends, and can play a mail server that is down. */
export class RecordingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  down = false;

  async send(message: MailMessage): Promise<boolean> {
    if (this.down) return false;
    this.sent.push(message);
    return true;
  }

  /** The last message to this address. */
  lastTo(address: string): MailMessage {
    const message = this.sent.findLast((m) => m.to === address);
    if (!message) throw new Error(`no mail to ${address}`);
    return message;
  }

  /** The 6-digit code in the last message to this address. */
  codeFor(address: string): string {
    const code = /verification code is (\d{6})\b/.exec(this.lastTo(address).text)?.[1];
    if (!code) throw new Error(`no code in the last mail to ${address}`);
    return code;
  }
}

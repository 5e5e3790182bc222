import { join } from 'node:path';
import type { Config } from '../config.ts';
import { createDevOutbox, type Mailer } from '../mail/mailer.ts';

export type CommandMailer = Mailer & { settled(): Promise<void> };

/**
 * The mailer of a command the CLI runs in its own process. Notifications are sent without being
 * awaited; this one remembers them, so that the CLI can wait for them before it exits instead of
 * cutting them off. With no SMTP server, mail goes to the dev outbox in the data dir, as a server's
 * does, but is not printed: the command's own lines are all the CLI prints.
 */
export function createCommandMailer(
  config: Pick<Config, 'dataDir' | 'smtpUrl'>,
  smtpMailer: Mailer,
): CommandMailer {
  const mailer = config.smtpUrl
    ? smtpMailer
    : createDevOutbox(
        join(config.dataDir, 'outbox'),
        () => {},
        () => new Date(),
      );
  const pending = new Set<Promise<boolean>>();
  return {
    send(message) {
      const sent = mailer.send(message);
      pending.add(sent);
      void sent.finally(() => pending.delete(sent)).catch(() => {});
      return sent;
    },
    async settled() {
      await Promise.allSettled(pending);
    },
  };
}

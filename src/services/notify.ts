import type { Content } from '../mail/templates.ts';
import { render } from '../mail/templates.ts';
import type { ServiceDeps } from './deps.ts';

/**
 * Security notifications are best effort: sent without being awaited, so that a slow or absent
 * mail server never delays or fails the action they report. The mailer logs what it could not send.
 */
export function notifyUser(deps: ServiceDeps, to: string, content: Content): void {
  void deps.mailer.send(render(to, content));
}

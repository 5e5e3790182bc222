import type { CSSProperties } from 'react';

/** Small shared bits of the Security screen: dates and a few inline styles. */

const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const moment = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDay(iso: string): string {
  return day.format(new Date(iso));
}

export function formatMoment(iso: string): string {
  return moment.format(new Date(iso));
}

export const muted: CSSProperties = { color: 'var(--muted)', margin: 0 };

export const sectionHeading: CSSProperties = { margin: 0 };

import type { Clock } from '../../src/services/deps.ts';

/** A clock that moves only when the test says so. */
export class ManualClock implements Clock {
  private current: number;
  constructor(start = Date.parse('2026-01-05T09:00:00Z')) {
    this.current = start;
  }
  now(): Date {
    return new Date(this.current);
  }
  advanceSeconds(seconds: number): void {
    this.current += seconds * 1000;
  }
}

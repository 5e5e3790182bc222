import type { Clock } from '../deps.ts';

export type ProbeCacheLimits = {
  /** A value loaded is reused this long. */
  freshSeconds: number;
  /** After a failed load, lookups answer null at once this long. */
  retrySeconds: number;
  /** The longest a lookup waits for a load in progress; the load itself goes on. */
  waitSeconds: number;
};

type Entry<T> = {
  fingerprint: string;
  value: T | null;
  freshUntil: number;
  failedUntil: number;
  probe: { done: Promise<T | null>; waited: Promise<null> } | null;
};

/**
 * One value per key (an org's identity provider configuration), loaded at most once at a time and
 * reused for a bounded time. A lookup never waits longer than `waitSeconds`, and a failed load is
 * remembered for `retrySeconds`, so that a slow or dead source costs callers little and is not
 * asked again on every request. The fingerprint names what the value was loaded from: another
 * fingerprint for the same key (the connection was saved again) starts afresh.
 */
export class ProbeCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly limits: ProbeCacheLimits;

  constructor(limits: ProbeCacheLimits) {
    this.limits = limits;
  }

  /** The value, or null when the source failed lately or has not answered within the wait. */
  async get(
    key: string,
    fingerprint: string,
    clock: Clock,
    load: () => Promise<T>,
  ): Promise<T | null> {
    const entry = this.entryFor(key, fingerprint);
    const now = clock.now().getTime();
    if (entry.value !== null && now < entry.freshUntil) return entry.value;
    if (now < entry.failedUntil) return null;
    entry.probe ??= this.probe(key, entry, clock, load);
    return Promise.race([entry.probe.done, entry.probe.waited]);
  }

  /** Loads now, whatever the cache holds, and keeps the outcome. Throws what the load throws. */
  async refresh(
    key: string,
    fingerprint: string,
    clock: Clock,
    load: () => Promise<T>,
  ): Promise<T> {
    const entry = this.entryFor(key, fingerprint);
    try {
      const value = await load();
      this.succeeded(key, entry, value, clock);
      return value;
    } catch (error) {
      this.failed(key, entry, clock);
      throw error;
    }
  }

  /** The source was found unreachable elsewhere: stop handing out its value for a while. */
  markFailed(key: string, fingerprint: string, clock: Clock): void {
    const entry = this.entries.get(key);
    if (entry?.fingerprint === fingerprint) this.failed(key, entry, clock);
  }

  private entryFor(key: string, fingerprint: string): Entry<T> {
    const existing = this.entries.get(key);
    if (existing?.fingerprint === fingerprint) return existing;
    const entry: Entry<T> = {
      fingerprint,
      value: null,
      freshUntil: 0,
      failedUntil: 0,
      probe: null,
    };
    this.entries.set(key, entry);
    return entry;
  }

  private probe(key: string, entry: Entry<T>, clock: Clock, load: () => Promise<T>) {
    const done = load().then(
      (value) => {
        this.succeeded(key, entry, value, clock);
        return value;
      },
      () => {
        this.failed(key, entry, clock);
        return null;
      },
    );
    void done.finally(() => {
      entry.probe = null;
    });
    // One timer per load, shared by every caller: those who come later wait only what is left.
    const waited = new Promise<null>((resolve) => {
      setTimeout(() => resolve(null), this.limits.waitSeconds * 1000).unref();
    });
    return { done, waited };
  }

  /** An outcome is kept only while its entry is current: a connection saved since replaced it. */
  private succeeded(key: string, entry: Entry<T>, value: T, clock: Clock) {
    if (this.entries.get(key) !== entry) return;
    entry.value = value;
    entry.freshUntil = clock.now().getTime() + this.limits.freshSeconds * 1000;
    entry.failedUntil = 0;
  }

  private failed(key: string, entry: Entry<T>, clock: Clock) {
    if (this.entries.get(key) !== entry) return;
    entry.value = null;
    entry.freshUntil = 0;
    entry.failedUntil = clock.now().getTime() + this.limits.retrySeconds * 1000;
  }
}

/**
 * Which inference requests the agent lets through to its engine, and how many are still in flight.
 *
 * Before a restart the agent drains: it stops admitting (its /health turns 503, so a load balancer
 * takes the replica out, and its /v1 proxy answers 503 with Retry-After), waits for the requests it
 * already admitted to finish (up to the drain timeout), and only then stops the engine. A request
 * admitted before the drain began therefore never sees its engine go away under it.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface DrainResult {
  /** True when every admitted request finished before the timeout. */
  drained: boolean;
  afterMs: number;
  /** Requests still in flight when the wait ended (0 when drained). */
  left: number;
}

export class Admission {
  private inFlight = 0;
  private closed = false;
  private readonly idle = new Set<() => void>();

  /** Admits one request: returns its release function, or null while the gate is closed. */
  admit(): (() => void) | null {
    if (this.closed) return null;
    this.inFlight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of [...this.idle]) wake();
    };
  }

  get open(): boolean {
    return !this.closed;
  }

  get count(): number {
    return this.inFlight;
  }

  /** Stops admitting and waits until the admitted requests are done or `timeoutMs` has passed. */
  async drain(timeoutMs: number): Promise<DrainResult> {
    this.closed = true;
    const started = Date.now();
    if (this.inFlight > 0) {
      let wake: () => void = () => undefined;
      const done = new Promise<void>((resolve) => {
        wake = resolve;
        this.idle.add(wake);
      });
      const ac = new AbortController();
      await Promise.race([done, sleep(Math.max(0, timeoutMs), undefined, { signal: ac.signal }).catch(() => undefined)]);
      ac.abort();
      this.idle.delete(wake);
    }
    return { drained: this.inFlight === 0, afterMs: Date.now() - started, left: this.inFlight };
  }

  /** Admits again (the engine is healthy on its new args, or back on its old ones). */
  reopen(): void {
    this.closed = false;
  }
}

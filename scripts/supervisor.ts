import type { ChildProcess } from 'node:child_process';

/** How long a child must have run for its next crash to count as a first one again. */
export const STABLE_AFTER_MS = 60_000;
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

/** Wait before restart `n` (1, 2, …) of a child that keeps crashing: 1 s, 2 s, 4 s, … at most 30 s. */
export function restartDelayMs(n: number): number {
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, n - 1));
}

export interface SupervisedChild {
  name: string;
  spawn: () => ChildProcess;
  /** Restart it when it exits on its own; false: its exit stops everything (the Temporal server the rest depends on). */
  restart: boolean;
}

/**
 * `npm start`'s children: each one that crashes is started again after a growing pause, logged, while the
 * others keep running; `stopAll` (Ctrl-C, SIGTERM) stops them all, last started first, and nothing restarts.
 */
export class Supervisor {
  private readonly running = new Map<string, ChildProcess>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly order: string[] = [];
  private stopping = false;

  constructor(
    private readonly log: (line: string) => void,
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {}

  start(spec: SupervisedChild): void {
    this.order.push(spec.name);
    this.launch(spec, 0);
  }

  private launch(spec: SupervisedChild, crashes: number): void {
    if (this.stopping) return;
    const child = spec.spawn();
    const startedAt = Date.now();
    this.running.set(spec.name, child);
    this.log(`${spec.name} started, pid ${child.pid}`);
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      const how = signal ?? `code ${code}`;
      if (!spec.restart) {
        this.log(`${spec.name} exited (${how}); stopping everything`);
        this.stopAll(1);
        return;
      }
      const ranMs = Date.now() - startedAt;
      const n = ranMs >= STABLE_AFTER_MS ? 1 : crashes + 1;
      const delay = restartDelayMs(n);
      this.log(`${spec.name} exited (${how}) after ${(ranMs / 1000).toFixed(0)} s; restarting in ${delay / 1000} s (restart ${n} in a row)`);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.launch(spec, n);
      }, delay);
      this.timers.add(timer);
    });
  }

  stopAll(code: number): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    // Reverse order: gateway and worker stop before the server they talk to.
    const children = [...this.order].reverse().flatMap((name) => {
      const c = this.running.get(name);
      return c && c.exitCode === null && c.signalCode === null ? [c] : [];
    });
    for (const c of children) c.kill('SIGTERM');
    setTimeout(() => this.exit(code), 3000).unref();
    void Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r))))).then(() => this.exit(code));
  }
}

/**
 * The agent's state machine around one engine process.
 *
 * - Every change (a config push, a recovery restart) runs through one queue, so pushes are serialized;
 *   a push of a revision that is already queued or being applied waits for that apply and gets its answer.
 * - A push's engine_args are laid over the args of the launch command (not over the current ones), so
 *   a push describes the whole config: pushing the previous revision's args (a rollback) restores exactly
 *   the previous command line. `null` unsets a launch arg.
 * - A push of the current revision is a no-op (while the engine is down, a restart attempt). Otherwise the engine is stopped, started on the new args
 *   and given `healthTimeoutMs` to answer its health route. If it exits or times out, the previous args
 *   are started again: 422 `apply_failed` with the engine's error line (and its last stderr lines as details) when that worked, 502
 *   `engine_unavailable` when the previous args did not come back either (the agent then keeps retrying them).
 * - An engine that dies on its own is restarted on the current args with backoff (1 s doubling to 30 s).
 * - Stopping a running engine (for a push, or when the agent closes) drains first (agent/admission.ts):
 *   no new requests are admitted, the admitted ones get up to `drainTimeoutMs` to finish, then the
 *   engine is stopped leader first (agent/engineProcess.ts).
 */
import type { ConfigPush, EngineArgs, EngineType, ReplicaConfig } from '../models';
import { engineErrorLine } from '../core/engineError';
import { Admission, type DrainResult } from './admission';
import { EngineProcess, describeExit, type EngineProcessOptions } from './engineProcess';
import { argIssues, argsToFlags } from './flags';
import { waitHealthy } from './health';

export interface SupervisorOptions {
  engine: EngineType;
  /** Command prefix kept on every start: program, positionals, launch flags. */
  fixed: readonly string[];
  /** Engine args parsed from the launch command. */
  launchArgs: EngineArgs;
  initialRevision: string;
  /** Engine health URL, e.g. http://127.0.0.1:8000/health. */
  healthUrl: string;
  healthTimeoutMs: number;
  /** SIGTERM → SIGKILL grace when stopping the engine. */
  stopTimeoutMs: number;
  /** How long admitted requests get to finish before the engine is stopped; default 30000. */
  drainTimeoutMs?: number;
  process?: EngineProcessOptions;
  /** Poll interval of the health wait; default 200 ms. */
  healthIntervalMs?: number;
  /** First delay before restarting an engine that died on its own; default 1000 ms (doubles up to 30 s). */
  recoveryBackoffMs?: number;
  log?: (line: string) => void;
}

export type PushOutcome =
  | { status: 200; config: ReplicaConfig; changed: boolean }
  | { status: 400; code: 'invalid_engine_args'; message: string; details: Array<{ field: string; message: string }> }
  | { status: 422; code: 'apply_failed'; message: string; details: Array<{ field: string; message: string }> }
  | { status: 502; code: 'engine_unavailable'; message: string; details: Array<{ field: string; message: string }> }
  | { status: 503; code: 'shutting_down'; message: string; details: [] };

export type SupervisorState = 'starting' | 'running' | 'applying' | 'recovering' | 'down' | 'stopped';

export interface SupervisorStatus {
  state: SupervisorState;
  engine: EngineType;
  revision: string;
  applying: string | null;
  pid: number | null;
  /** Engine starts after the first. */
  restarts: number;
  command: string[];
  last_error: { at: string; message: string; stderr: string[] } | null;
  /** Requests in flight through the agent's /v1 proxy now. */
  in_flight: number;
  /** The drain before the last engine stop: whether every admitted request finished, and how long it took. */
  last_drain: { drained: boolean; after_ms: number; left: number } | null;
}

export class Supervisor {
  private current: { revision: string; args: EngineArgs };
  private child: EngineProcess | null = null;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly pending = new Map<string, Promise<PushOutcome>>();
  private state: SupervisorState = 'starting';
  private applying: string | null = null;
  private starts = 0;
  private lastError: SupervisorStatus['last_error'] = null;
  private stopping = false;
  private recoveryTimer: NodeJS.Timeout | null = null;
  private backoffMs: number;
  private readonly log: (line: string) => void;
  private readonly admission = new Admission();
  private lastDrain: DrainResult | null = null;

  constructor(private readonly opts: SupervisorOptions) {
    this.current = { revision: opts.initialRevision, args: { ...opts.launchArgs } };
    this.backoffMs = opts.recoveryBackoffMs ?? 1_000;
    this.log = opts.log ?? (() => undefined);
  }

  config(): ReplicaConfig {
    return { revision: this.current.revision, engine: this.opts.engine, engine_args: { ...this.current.args } };
  }

  commandFor(args: EngineArgs): string[] {
    return [...this.opts.fixed, ...argsToFlags(this.opts.engine, args)];
  }

  status(): SupervisorStatus {
    return {
      state: this.state,
      engine: this.opts.engine,
      revision: this.current.revision,
      applying: this.applying,
      pid: this.child?.running ? this.child.pid : null,
      restarts: Math.max(0, this.starts - 1),
      command: this.child ? [...this.child.command] : this.commandFor(this.current.args),
      last_error: this.lastError,
      in_flight: this.admission.count,
      last_drain: this.lastDrain ? { drained: this.lastDrain.drained, after_ms: this.lastDrain.afterMs, left: this.lastDrain.left } : null,
    };
  }

  /** True when the engine runs and the last start or apply left it healthy. */
  get engineUp(): boolean {
    return this.child?.running === true && (this.state === 'running' || this.state === 'applying');
  }

  /** True while requests may be sent to the engine: it is up and no drain has begun (the readiness the agent's /health reports). */
  get admitting(): boolean {
    return this.engineUp && this.admission.open;
  }

  /** Admits one inference request: its release function, or null when the engine must not get it now. */
  admit(): (() => void) | null {
    return this.engineUp ? this.admission.admit() : null;
  }

  /** Starts the engine on the launch args and waits for it to be healthy (or to fail: then recovery retries). */
  start(): Promise<boolean> {
    return this.enqueue(async () => {
      const ready = await this.launch(this.current.args);
      if (ready.ok) this.state = 'running';
      else this.failedToRun(ready.reason);
      return ready.ok;
    });
  }

  push(push: ConfigPush): Promise<PushOutcome> {
    if (this.stopping) return Promise.resolve(this.shuttingDown());
    const issues = argIssues(this.opts.engine, push.engine_args);
    if (issues.length > 0) {
      return Promise.resolve({ status: 400, code: 'invalid_engine_args', message: `${issues[0].field}: ${issues[0].message}`, details: issues });
    }
    const inFlight = this.pending.get(push.revision);
    if (inFlight) return inFlight;
    const outcome = this.enqueue(() => this.apply(push));
    this.pending.set(push.revision, outcome);
    void outcome.finally(() => this.pending.delete(push.revision));
    return outcome;
  }

  /** Stops the engine and refuses further work. */
  async close(): Promise<void> {
    this.stopping = true;
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    // Stop the engine now (an apply waiting for health sees it exit), then let the queue drain.
    if (this.child?.running) await this.drain();
    await this.child?.stop(this.opts.stopTimeoutMs);
    await this.tail.catch(() => undefined);
    await this.child?.stop(this.opts.stopTimeoutMs);
    this.state = 'stopped';
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.tail.then(job, job);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private shuttingDown(): PushOutcome {
    return { status: 503, code: 'shutting_down', message: 'the agent is shutting down', details: [] };
  }

  private async apply(push: ConfigPush): Promise<PushOutcome> {
    if (this.stopping) return this.shuttingDown();
    if (push.revision === this.current.revision) {
      if (this.state !== 'down') return { status: 200, config: this.config(), changed: false };
      // The engine is down on this revision: the push is a restart attempt, and says whether it worked.
      const ready = await this.launch(this.current.args);
      if (ready.ok) {
        this.state = 'running';
        return { status: 200, config: this.config(), changed: false };
      }
      const stderr = this.child?.stderrTail() ?? [];
      const message = `revision ${push.revision} is configured but its engine does not start: ${ready.reason}`;
      this.failedToRun(message, stderr);
      return { status: 502, code: 'engine_unavailable', message, details: stderr.map((line) => ({ field: 'stderr', message: line })) };
    }
    const previous = this.current;
    const next = { revision: push.revision, args: { ...this.opts.launchArgs, ...push.engine_args } };
    this.applying = push.revision;
    this.state = 'applying';
    try {
      this.log(`applying revision ${next.revision}: ${this.commandFor(next.args).join(' ')}`);
      const ready = await this.launch(next.args);
      if (ready.ok) {
        this.current = next;
        this.state = 'running';
        this.backoffMs = this.opts.recoveryBackoffMs ?? 1_000;
        this.log(`revision ${next.revision} healthy after ${ready.afterMs} ms (pid ${this.child?.pid})`);
        return { status: 200, config: this.config(), changed: true };
      }
      if (this.stopping) return this.shuttingDown();
      const stderr = this.child?.stderrTail() ?? [];
      const why = `revision ${next.revision} rejected: ${ready.reason}`;
      this.log(`${why}; restoring revision ${previous.revision}`);
      const restored = await this.launch(previous.args);
      const details = stderr.map((line) => ({ field: 'stderr', message: line }));
      // The engine's own error line (core/engineError.ts), not whatever its output happened to end with.
      const errorLine = engineErrorLine(stderr);
      const last = errorLine ? `: ${errorLine}` : '';
      if (restored.ok) {
        this.state = 'running';
        this.record(why, stderr);
        return { status: 422, code: 'apply_failed', message: `${why}${last}; restored revision ${previous.revision}`, details };
      }
      const message = `${why}${last}; restoring revision ${previous.revision} failed too: ${restored.reason}`;
      this.failedToRun(message, stderr);
      return { status: 502, code: 'engine_unavailable', message, details };
    } finally {
      this.applying = null;
    }
  }

  /** Stops the current engine (if any), starts one on `args`, waits for its health. */
  private async launch(args: EngineArgs): Promise<{ ok: true; afterMs: number } | { ok: false; reason: string }> {
    if (this.child) {
      if (this.child.running && this.engineUp) await this.drain();
      await this.child.stop(this.opts.stopTimeoutMs);
    }
    if (this.stopping) return { ok: false, reason: 'agent is shutting down' };
    const child = new EngineProcess(this.commandFor(args), this.opts.process);
    this.child = child;
    this.starts += 1;
    void child.exited.then((exit) => this.onExit(child, describeExit(exit)));
    const ready = await waitHealthy(child, this.opts.healthUrl, this.opts.healthTimeoutMs, {
      intervalMs: this.opts.healthIntervalMs,
      shouldStop: () => this.stopping,
    });
    if (!ready.ok) await child.stop(this.opts.stopTimeoutMs);
    if (!this.stopping) this.admission.reopen();
    return ready;
  }

  private async drain(): Promise<void> {
    const result = await this.admission.drain(this.opts.drainTimeoutMs ?? 30_000);
    this.lastDrain = result;
    this.log(
      result.drained
        ? `drained in ${result.afterMs} ms`
        : `drain timed out after ${result.afterMs} ms with ${result.left} request(s) in flight; stopping anyway`,
    );
  }

  private record(message: string, stderr: string[] = this.child?.stderrTail() ?? []): void {
    this.lastError = { at: new Date().toISOString(), message, stderr };
  }

  private failedToRun(message: string, stderr?: string[]): void {
    this.record(message, stderr);
    this.state = 'down';
    this.log(`engine down: ${message}`);
    this.scheduleRecovery();
  }

  /** An engine that exits while it is the running one (not stopped by the agent) is restarted. */
  private onExit(child: EngineProcess, how: string): void {
    if (this.stopping || child !== this.child || this.state !== 'running') return;
    this.record(`engine ${how} while running revision ${this.current.revision}`, child.stderrTail());
    this.state = 'down';
    this.log(`engine ${how}; restarting in ${this.backoffMs} ms`);
    this.scheduleRecovery();
  }

  private scheduleRecovery(): void {
    if (this.stopping || this.recoveryTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
    this.recoveryTimer = setTimeout(() => {
      this.recoveryTimer = null;
      void this.enqueue(async () => {
        // A push in between may have brought the engine back already.
        if (this.stopping || this.state !== 'down') return;
        this.state = 'recovering';
        const ready = await this.launch(this.current.args);
        if (ready.ok) {
          this.state = 'running';
          this.backoffMs = this.opts.recoveryBackoffMs ?? 1_000;
          this.log(`engine back on revision ${this.current.revision}`);
        } else if (!this.stopping) this.failedToRun(`restart on revision ${this.current.revision} failed: ${ready.reason}`);
      });
    }, delay);
    this.recoveryTimer.unref();
  }
}

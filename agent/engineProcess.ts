/**
 * One run of the engine: a child process in its own process group (engines fork workers; tsx and
 * python launchers wrap the real server); stopping it signals the leader first, then the whole group. Keeps the last lines
 * of its stderr: the reason a crashed engine gives.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface EngineProcessOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Lines of stderr kept for error messages; default 20. */
  tailLines?: number;
  /** Where the child's stdout and stderr are copied (the agent's own output by default); null: nowhere. */
  forward?: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } | null;
}

export function describeExit(e: ExitInfo): string {
  if (e.signal) return `was killed by ${e.signal}`;
  return e.code === null ? 'could not be started' : `exited with code ${e.code}`;
}

export class EngineProcess {
  readonly pid: number;
  /** Resolves when the group leader has exited (spawn failures count as an exit with code null). */
  readonly exited: Promise<ExitInfo>;
  exit: ExitInfo | null = null;
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private partial = '';
  private readonly tailLines: number;

  constructor(readonly command: readonly string[], opts: EngineProcessOptions = {}) {
    if (command.length === 0) throw new Error('empty engine command');
    this.tailLines = opts.tailLines ?? 20;
    this.child = spawn(command[0], command.slice(1), {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.pid = this.child.pid ?? -1;
    const forward = opts.forward === undefined ? { stdout: process.stdout, stderr: process.stderr } : opts.forward;
    this.child.stdout?.on('data', (chunk: Buffer) => forward?.stdout.write(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => {
      forward?.stderr.write(chunk);
      this.keep(chunk.toString());
    });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.keep(`${err.message}\n`);
        if (this.child.pid === undefined) this.settle({ code: null, signal: null }, resolve);
      });
      // 'close' (not 'exit'): the output pipes are drained, so the stderr tail is complete.
      this.child.once('close', (code, signal) => this.settle({ code, signal }, resolve));
    });
  }

  private settle(info: ExitInfo, resolve: (e: ExitInfo) => void): void {
    if (this.exit) return;
    if (this.partial.trim() !== '') this.push(this.partial);
    this.partial = '';
    this.exit = info;
    resolve(info);
  }

  private keep(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') this.push(line);
  }

  private push(line: string): void {
    this.tail.push(line.trimEnd());
    if (this.tail.length > this.tailLines) this.tail.shift();
  }

  /** The last stderr lines, oldest first. */
  stderrTail(): string[] {
    return this.partial.trim() !== '' ? [...this.tail, this.partial.trimEnd()].slice(-this.tailLines) : [...this.tail];
  }

  get running(): boolean {
    return this.exit === null;
  }

  private signalGroup(signal: NodeJS.Signals): boolean {
    if (this.pid <= 0) return false;
    try {
      process.kill(-this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** True while any process of the group is alive. */
  groupAlive(): boolean {
    if (this.pid <= 0) return false;
    try {
      process.kill(-this.pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  private signalLeader(signal: NodeJS.Signals): boolean {
    if (this.pid <= 0 || !this.running) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stops the engine the way it wants to be stopped, then makes sure nothing is left:
   *
   * 1. SIGTERM to the group leader only (vLLM's API server: its own shutdown finishes what it serves
   *    and then stops its engine core; signalling the whole group at once kills the engine core
   *    under the API server, and requests in flight fail with HTTP 500);
   * 2. once the leader has exited, the rest of the group gets `groupGraceMs` (default 5 s, at most
   *    what is left of `graceMs`) to exit by itself, then SIGTERM;
   * 3. SIGKILL to whatever is still there when `graceMs` is over.
   *
   * Resolves once the leader has exited and the group is gone (so the port is free for the next run).
   */
  async stop(graceMs: number, groupGraceMs = 5_000): Promise<ExitInfo> {
    const deadline = Date.now() + graceMs;
    if (this.running) this.signalLeader('SIGTERM');
    else if (this.groupAlive()) this.signalGroup('SIGTERM');
    const timer = new Promise<'timeout'>((resolve) => {
      const t = setTimeout(() => resolve('timeout'), Math.max(0, graceMs));
      void this.exited.then(() => clearTimeout(t));
    });
    if ((await Promise.race([this.exited, timer])) === 'timeout') this.signalGroup('SIGKILL');
    const exit = await this.exited;
    const termAt = Math.min(deadline, Date.now() + groupGraceMs);
    let termed = false;
    while (this.groupAlive()) {
      const now = Date.now();
      if (!termed && now >= termAt) {
        this.signalGroup('SIGTERM');
        termed = true;
      }
      if (now >= deadline) {
        this.signalGroup('SIGKILL');
        await sleep(50);
        if (Date.now() >= deadline + 5_000) break;
      } else await sleep(50);
    }
    return exit;
  }
}

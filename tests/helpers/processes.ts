/**
 * The system as separate OS processes — the dev server, simulator, worker and gateway each started
 * the way `npm run temporal|sim|worker|api` starts them — so fault tests can SIGKILL and restart
 * any of them. Each runs in its own process group so a kill also takes down tsx's child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { devServerArgs } from '../../scripts/devServer';
import { freePortOutsideEphemeralRange, TSX, waitForPort } from '../../scripts/processes';
import { PROJECT_ROOT } from '../../scripts/temporalBinaries';
import { externalTemporal } from './temporal';

export type ProcessName = 'temporal' | 'sim' | 'worker' | 'api';

export class ProcessStack {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'servetune-faults-'));
  readonly taskQueue = `faults-${Math.random().toString(36).slice(2)}`;
  ports = { temporal: 0, ui: 0, api: 0, vllm: 0, tgi: 0, sglang: 0 };
  private readonly children = new Map<ProcessName, ChildProcess>();
  readonly logs: string[] = [];
  /** SERVETUNE_TEST_TEMPORAL_ADDRESS: the processes use that server, and this stack starts none. */
  readonly external = externalTemporal();

  constructor(private readonly env: NodeJS.ProcessEnv = {}) {}

  async allocatePorts(): Promise<void> {
    // Processes here are killed and started again on their ports: ports no other process takes meanwhile.
    for (const key of Object.keys(this.ports) as Array<keyof ProcessStack['ports']>) this.ports[key] = await freePortOutsideEphemeralRange();
  }

  get temporalAddress(): string {
    return this.external?.address ?? `127.0.0.1:${this.ports.temporal}`;
  }

  get apiUrl(): string {
    return `http://127.0.0.1:${this.ports.api}`;
  }

  get vllmUrl(): string {
    return `http://127.0.0.1:${this.ports.vllm}`;
  }

  private spawn(name: ProcessName, command: string, args: string[], env: NodeJS.ProcessEnv): void {
    this.children.set(name, spawnWithLogTail(name, command, args, { ...this.env, ...env }, this.logs));
  }

  async start(name: ProcessName): Promise<void> {
    const common = { TEMPORAL_ADDRESS: this.temporalAddress, TEMPORAL_NAMESPACE: this.external?.namespace ?? 'default', TASK_QUEUE: this.taskQueue };
    switch (name) {
      case 'temporal':
        if (this.external) throw new Error(`the Temporal server is external (${this.external.address}): this stack cannot start or restart it`);
        this.spawn('temporal', process.env.TEMPORAL_CLI_PATH!, devServerArgs({
          ip: '127.0.0.1',
          port: this.ports.temporal,
          uiPort: this.ports.ui,
          namespace: 'default',
          dbFile: path.join(this.dir, 'temporal.db'),
        }), {});
        await waitForPort('127.0.0.1', this.ports.temporal, 60_000, 'Temporal');
        return;
      case 'sim':
        this.spawn('sim', TSX, ['simulator/main.ts'], {
          SIM_VLLM_PORT: String(this.ports.vllm),
          SIM_TGI_PORT: String(this.ports.tgi),
          SIM_SGLANG_PORT: String(this.ports.sglang),
        });
        await waitForPort('127.0.0.1', this.ports.vllm, 30_000, 'simulator');
        return;
      case 'worker':
        this.spawn('worker', TSX, ['worker/main.ts'], { ...common, WORKFLOW_BUNDLE_PATH: process.env.SERVETUNE_TEST_WORKFLOW_BUNDLE });
        return;
      case 'api':
        this.spawn('api', TSX, ['api/main.ts'], { ...common, PORT: String(this.ports.api), HOST: '127.0.0.1' });
        await waitForPort('127.0.0.1', this.ports.api, 30_000, 'gateway');
        return;
    }
  }

  /** Kills the whole process group and waits until it is gone. */
  async kill(name: ProcessName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
    await exited;
    this.children.delete(name);
    // The group leader (tsx) can exit before its node child has let go of its ports; a restart that
    // found the old process still listening would send the next request to a dying server.
    for (const port of this.portsOf(name)) await waitForPortClosed(port);
  }

  private portsOf(name: ProcessName): number[] {
    if (name === 'sim') return [this.ports.vllm, this.ports.tgi, this.ports.sglang];
    if (name === 'api') return [this.ports.api];
    if (name === 'temporal') return [this.ports.temporal];
    return [];
  }

  async startAll(): Promise<void> {
    await this.allocatePorts();
    if (!this.external) await this.start('temporal');
    await Promise.all([this.start('sim'), this.start('worker'), this.start('api')]);
  }

  async stopAll(): Promise<void> {
    for (const name of ['api', 'worker', 'sim', 'temporal'] as ProcessName[]) await this.kill(name, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  // No keep-alive: the tests kill and restart these processes, and a pooled socket to a killed one
  // answers the next request with ECONNRESET.
  api = axios.create({ validateStatus: () => true, timeout: 15_000, httpAgent: new http.Agent({ keepAlive: false }) });
}

/** Polls until nothing accepts connections on 127.0.0.1:`port` (at most 10 s). */
export async function waitForPortClosed(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (!open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A child process of the project in its own process group (so a test can kill it and its children),
 * quiet logs, its output kept as the last 400 lines of `logs`, each prefixed with `[name]`.
 */
export function spawnWithLogTail(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, logs: string[]): ChildProcess {
  const child = spawn(command, args, {
    cwd: PROJECT_ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const keep = (chunk: Buffer) => {
    logs.push(`[${name}] ${chunk.toString().trimEnd()}`);
    if (logs.length > 400) logs.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return child;
}

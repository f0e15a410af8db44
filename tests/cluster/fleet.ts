/**
 * servetune as production runs it, as OS processes on one machine: several workers and several gateways
 * against one Temporal server (the simulated fleets stay in the test process: they are not under test).
 * Processes are named (`worker-1`, `api-2` …) so a test can SIGKILL any one of them. Workers run as `node --import tsx` (one process, no tsx wrapper), so the
 * pid in a worker's Temporal identity (`<pid>@<host>`) is the pid of the child this fleet holds.
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import axios from 'axios';
import { freePort, waitForPort } from '../../scripts/processes';
import { spawnWithLogTail, waitForPortClosed } from '../helpers/processes';

export interface FleetOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  /** Worker Deployment name every worker of this fleet registers under. */
  deploymentName: string;
}

interface Running {
  child: ChildProcess;
  port?: number;
}

export class Fleet {
  private readonly children = new Map<string, Running>();
  readonly logs: string[] = [];

  constructor(readonly opts: FleetOptions) {}

  // No keep-alive: gateways are killed mid-test, and a pooled socket to a killed one answers ECONNRESET.
  readonly http = axios.create({ validateStatus: () => true, timeout: 60_000, httpAgent: new http.Agent({ keepAlive: false }) });

  private spawnNamed(name: string, args: string[], env: NodeJS.ProcessEnv, port?: number): ChildProcess {
    const fleetEnv = { TEMPORAL_ADDRESS: this.opts.address, TEMPORAL_NAMESPACE: this.opts.namespace, TASK_QUEUE: this.opts.taskQueue };
    const child = spawnWithLogTail(name, process.execPath, ['--import', 'tsx', ...args], { ...fleetEnv, ...env }, this.logs);
    this.children.set(name, { child, port });
    return child;
  }

  /** A worker of `buildId`; it makes its build current once it polls (worker/main.ts), as in production. */
  startWorker(name: string, buildId: string): ChildProcess {
    return this.spawnNamed(name, ['worker/main.ts'], {
      WORKFLOW_BUNDLE_PATH: process.env.SERVETUNE_TEST_WORKFLOW_BUNDLE,
      SERVETUNE_DEPLOYMENT_NAME: this.opts.deploymentName,
      SERVETUNE_BUILD_ID: buildId,
      WORKER_METRICS_PORT: '0',
      TEMPORAL_SDK_METRICS_PORT: '0',
    });
  }

  async startGateway(name: string): Promise<string> {
    const port = await freePort();
    this.spawnNamed(name, ['api/main.ts'], { PORT: String(port), HOST: '127.0.0.1' }, port);
    await waitForPort('127.0.0.1', port, 60_000, name);
    return `http://127.0.0.1:${port}`;
  }

  pid(name: string): number | undefined {
    return this.children.get(name)?.child.pid;
  }

  /** The fleet process whose pid is in `identity` (`<pid>@<host>`), if any. */
  nameOfIdentity(identity: string): string | undefined {
    const pid = Number(identity.split('@')[0]);
    return [...this.children.entries()].find(([, r]) => r.child.pid === pid)?.[0];
  }

  /** Signals the process and waits until it has exited and let go of its port. */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const running = this.children.get(name);
    if (!running) return;
    this.children.delete(name);
    const { child, port } = running;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
    await exited;
    if (port) await waitForPortClosed(port);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children.keys()].map((name) => this.kill(name)));
  }

}

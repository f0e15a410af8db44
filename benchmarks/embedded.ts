/**
 * The embedded stack every benchmark runs on: one Temporal dev server (the CLI's start-dev, the same
 * binary `npm start` and the tests use), the workflow bundle built once, and helpers to start a worker,
 * the gateway and the fleet simulator either in this process or, where a figure needs a process's own
 * RSS or CPU, as a child process started as `npm start` and the Docker image start it: compiled
 * JavaScript (`node <NODE_FLAGS> dist/worker/main.js`, dist/ built first if a source is newer), so the
 * child's pid is the process that does the work. The benchmark's own children (the floor's worker, the
 * simulator child) are compiled the same way into .data/bench-dist/. BENCH_TSX=1 runs every child from
 * source under tsx instead (`node --import tsx worker/main.ts`), as `npm run worker|api` do.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createApp } from '../api/app';
import { createFleetSimulator, type FleetDeploymentSpec, type FleetSimulator } from '../simulator/simulatedFleet';
import { compiledPath, ensureBuilt } from '../scripts/build';
import { ensureTemporalBinaries, PROJECT_ROOT } from '../scripts/temporalBinaries';
import { NODE_FLAGS, PROCESS_ENV, waitForPort } from '../scripts/processes';
import * as createWorkerModule from '../worker/createWorker';
import * as floorActivities from './floor/activities';
import { freePort } from '../scripts/processes';
import { SEARCH_ATTRIBUTE_KEYS } from '../contract';

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

export interface ChildHandle {
  name: string;
  child: ChildProcess;
  /** Pid of the node process doing the work (spawned directly, so no tsx wrapper in between). */
  pid: number;
  /** Last lines of its output, for error messages. */
  logs: string[];
  /** Lines of stdout, for children that report (the simulator prints its deployments as JSON). */
  lines: string[];
  stop(): Promise<void>;
}

export interface SimDeploymentInfo {
  url: string;
  replicaAddresses: string[];
}

export interface Embedded {
  env: TestWorkflowEnvironment;
  namespace: string;
  /** Path of the bundled rollout workflows (children load it through WORKFLOW_BUNDLE_PATH). */
  bundlePath: string;
  /** Directory for bundles, CPU profiles and other scratch files; removed on close. */
  scratch: string;
  temporalAddress: string;
  /** In-process rollout worker on `taskQueue`, real activities, the shared bundle. */
  startRolloutWorker(taskQueue: string, maxCachedWorkflows?: number): Promise<RunningWorker>;
  /** In-process worker for the floor: bare workflows and no-op activities. */
  startFloorWorker(taskQueue: string): Promise<RunningWorker>;
  /** In-process gateway (createApp) on a free loopback port. */
  startGateway(taskQueue: string): Promise<{ url: string; close(): Promise<void> }>;
  startFleet(deployments: FleetDeploymentSpec[]): Promise<FleetSimulator>;
  /** `worker/main.ts` in a child process (compiled, with NODE_FLAGS.worker before `nodeArgs`). */
  spawnWorker(taskQueue: string, env?: NodeJS.ProcessEnv, nodeArgs?: string[]): Promise<ChildHandle>;
  /** The floor's worker (benchmarks/floor/workerMain.ts) in a child process, like `spawnWorker`. */
  spawnFloorWorker(taskQueue: string, env?: NodeJS.ProcessEnv): Promise<ChildHandle>;
  /** `api/main.ts` in a child process (compiled, with NODE_FLAGS.api before `nodeArgs`). */
  spawnGateway(taskQueue: string, env?: NodeJS.ProcessEnv, nodeArgs?: string[]): Promise<ChildHandle & { url: string }>;
  /** The read benchmark's gateway (benchmarks/readsGatewayChild.ts) in a child process; its URL once it listens. */
  spawnReadsGateway(env: NodeJS.ProcessEnv): Promise<ChildHandle & { url: string }>;
  /** The fleet simulator (createFleetSimulator) in a child process, so scraping it costs this process nothing. */
  spawnFleet(deployments: FleetDeploymentSpec[]): Promise<ChildHandle & { deployments: SimDeploymentInfo[] }>;
  close(): Promise<void>;
}

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** Children run from source under tsx (BENCH_TSX=1) instead of compiled JavaScript. */
export const CHILDREN_FROM_SOURCE = process.env.BENCH_TSX === '1';
/** The benchmark's own child scripts, compiled into .data/bench-dist/ (benchmarks/tsconfig.children.json). */
const BENCH_DIST = path.join(PROJECT_ROOT, '.data', 'bench-dist');

/** Extra node flags for the worker children (and the floor's), after NODE_FLAGS.worker: BENCH_WORKER_NODE_FLAGS. */
const EXTRA_WORKER_FLAGS = (process.env.BENCH_WORKER_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');

/** How a child runs `script` (a .ts path from the project root): the compiled file, or tsx over the source. */
function childEntry(script: string): string[] {
  if (CHILDREN_FROM_SOURCE) return ['--import', 'tsx', script];
  return [script.startsWith('benchmarks/') ? path.join(BENCH_DIST, script.replace(/\.ts$/, '.js')) : compiledPath(script)];
}

/** dist/ (if a source is newer than the last build) and the benchmark's own children. */
function buildChildren(log: (line: string) => void): void {
  if (CHILDREN_FROM_SOURCE) return;
  ensureBuilt(log);
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(__dirname, 'tsconfig.children.json')], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`compiling the benchmark's children failed:\n${tsc.stdout}${tsc.stderr}`);
}

export { freePort };

export interface EmbeddedOptions {
  /** Run every child process under `node --cpu-prof`, profiles into this directory (see run.ts --profile). */
  profileDir?: string;
}

export async function startEmbedded(log: (line: string) => void, opts: EmbeddedOptions = {}): Promise<Embedded> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const { cli } = ensureTemporalBinaries(log);
  buildChildren(log);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'servetune-bench-'));
  log('starting the Temporal dev server and bundling the workflows');
  const [env, rolloutBundle, floorBundle] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: cli }, searchAttributes: SEARCH_ATTRIBUTE_KEYS },
    }),
    bundleWorkflowCode({ ...createWorkerModule.WORKFLOW_BUNDLE_OPTIONS, logger: quietLogger }),
    // The floor's bundle is built as the worker's is (its source map without the sources' text).
    bundleWorkflowCode({ workflowsPath: require.resolve('./floor/workflows'), webpackConfigHook: createWorkerModule.withoutSourcesContent, logger: quietLogger }),
  ]);
  const bundlePath = path.join(scratch, 'workflow-bundle.js');
  writeFileSync(bundlePath, rolloutBundle.code);
  const floorBundlePath = path.join(scratch, 'floor-bundle.js');
  writeFileSync(floorBundlePath, floorBundle.code);
  const namespace = env.namespace ?? 'default';
  const temporalAddress = (env.connection.options as { address?: string }).address ?? '127.0.0.1:7233';
  const children = new Set<ChildHandle>();
  const closers: Array<() => Promise<void>> = [];

  function spawnChild(name: string, script: string, env: NodeJS.ProcessEnv, nodeArgs: readonly string[] = []): ChildHandle {
    const profile = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [];
    const child = spawn(process.execPath, [...profile, ...nodeArgs, ...childEntry(script)], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const handle: ChildHandle = {
      name,
      child,
      pid: child.pid!,
      logs: [],
      lines: [],
      async stop() {
        children.delete(handle);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      },
    };
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      handle.lines.push(...parts);
      handle.logs.push(...parts);
      if (handle.logs.length > 200) handle.logs.splice(0, handle.logs.length - 200);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      handle.logs.push(chunk.toString().trimEnd());
      if (handle.logs.length > 200) handle.logs.splice(0, handle.logs.length - 200);
    });
    children.add(handle);
    if (opts.profileDir) recordProfiledProcess(opts.profileDir, child.pid!, `${name} (${script})`);
    return handle;
  }

  async function runningWorker(worker: Worker): Promise<RunningWorker> {
    const running = worker.run();
    // A worker is ready once it polls; give it a moment so the first measurement does not include start-up.
    await sleep(200);
    let stopped: Promise<void> | undefined;
    const stop = () => (stopped ??= (async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    })());
    closers.push(stop);
    return { worker, stop };
  }

  return {
    env,
    namespace,
    bundlePath,
    scratch,
    temporalAddress,

    async startRolloutWorker(taskQueue, maxCachedWorkflows) {
      const worker = await createWorkerModule.createRolloutWorker({
        connection: env.nativeConnection,
        namespace,
        taskQueue,
        workflowBundle: { code: rolloutBundle.code },
        maxCachedWorkflows,
      });
      return runningWorker(worker);
    },

    async startFloorWorker(taskQueue) {
      const worker = await Worker.create({
        connection: env.nativeConnection,
        namespace,
        taskQueue,
        workflowBundle: { code: floorBundle.code },
        activities: floorActivities,
      });
      return runningWorker(worker);
    },

    async startGateway(taskQueue) {
      const app = createApp(env.client, { taskQueue });
      const server: Server = await new Promise((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const close = () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      closers.push(close);
      return { url, close };
    },

    async startFleet(deployments) {
      const fleet = await createFleetSimulator({ deployments });
      closers.push(() => fleet.close());
      return fleet;
    },

    async spawnWorker(taskQueue, extraEnv = {}, nodeArgs = []) {
      const handle = spawnChild('worker', 'worker/main.ts', {
        ...PROCESS_ENV.worker,
        // Its metrics endpoints stay on, as in production, on ports of their own.
        WORKER_METRICS_PORT: String(await freePort()),
        TEMPORAL_SDK_METRICS_PORT: String(await freePort()),
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_NAMESPACE: namespace,
        TASK_QUEUE: taskQueue,
        WORKFLOW_BUNDLE_PATH: bundlePath,
        // Info, so its one start-up line ("worker polling") tells us it is ready; it logs nothing per rollout.
        LOG_LEVEL: 'info',
        ...extraEnv,
      }, [...NODE_FLAGS.worker, ...EXTRA_WORKER_FLAGS, ...nodeArgs]);
      await waitUntil(() => handle.logs.some((l) => l.includes('worker polling')), 30_000, `worker child never polled: ${handle.logs.join('\n')}`, () => handle.child.exitCode !== null);
      return handle;
    },

    async spawnFloorWorker(taskQueue, extraEnv = {}) {
      // The floor runs with the worker's flags and environment: the same SDK worker, settings included.
      const handle = spawnChild('floor-worker', 'benchmarks/floor/workerMain.ts', {
        ...PROCESS_ENV.worker,
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_NAMESPACE: namespace,
        TASK_QUEUE: taskQueue,
        FLOOR_BUNDLE_PATH: floorBundlePath,
        ...extraEnv,
      }, [...NODE_FLAGS.worker, ...EXTRA_WORKER_FLAGS]);
      await waitUntil(() => handle.logs.some((l) => l.includes('worker polling')), 30_000, `floor worker child never polled: ${handle.logs.join('\n')}`, () => handle.child.exitCode !== null);
      return handle;
    },

    async spawnGateway(taskQueue, extraEnv = {}, nodeArgs = []) {
      const port = await freePort();
      const handle = spawnChild('gateway', 'api/main.ts', {
        TEMPORAL_ADDRESS: temporalAddress,
        TEMPORAL_NAMESPACE: namespace,
        TASK_QUEUE: taskQueue,
        PORT: String(port),
        HOST: '127.0.0.1',
        SERVETUNE_API_TOKENS: '',
        SERVETUNE_API_TOKENS_FILE: '',
        ...extraEnv,
      }, [...NODE_FLAGS.api, ...nodeArgs]);
      await waitForPort('127.0.0.1', port, 30_000, 'gateway child');
      return { ...handle, url: `http://127.0.0.1:${port}` };
    },

    async spawnReadsGateway(extraEnv) {
      const handle = spawnChild('reads gateway', 'benchmarks/readsGatewayChild.ts', { TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: namespace, ...extraEnv }, NODE_FLAGS.api);
      await waitUntil(() => handle.lines.some((l) => l.startsWith('{')), 60_000, `reads gateway child did not start: ${handle.logs.join('\n')}`, () => handle.child.exitCode !== null);
      const { url } = JSON.parse(handle.lines.find((l) => l.startsWith('{'))!) as { url: string };
      return { ...handle, url };
    },

    async spawnFleet(deployments) {
      const handle = spawnChild('sim', 'benchmarks/simChild.ts', { BENCH_SIM_SPEC: JSON.stringify(deployments) }, NODE_FLAGS.sim);
      await waitUntil(() => handle.lines.some((l) => l.startsWith('{')), 60_000, `simulator child did not start: ${handle.logs.join('\n')}`, () => handle.child.exitCode !== null);
      const info = JSON.parse(handle.lines.find((l) => l.startsWith('{'))!) as { deployments: SimDeploymentInfo[] };
      return { ...handle, deployments: info.deployments };
    },

    async close() {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      for (const c of [...children]) await c.stop().catch(() => undefined);
      await env.teardown();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** profiles/index.json maps each profiled pid to what it ran, so the summary can name the profiles. */
export function recordProfiledProcess(dir: string, pid: number, what: string): void {
  const file = path.join(dir, 'index.json');
  let index: Record<string, string> = {};
  try {
    index = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch {
    // first entry
  }
  index[String(pid)] = what;
  writeFileSync(file, JSON.stringify(index, null, 2));
}

export async function waitUntil(ok: () => boolean, timeoutMs: number, message: string, failed: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (failed() || Date.now() > deadline) throw new Error(message);
    await sleep(50);
  }
}

/** Resident set size of a process, from /proc/<pid>/status (VmRSS, kB) — bytes. */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU time (user + system, all threads) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS;
}

/** USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK) is not reachable from Node). */
const CLOCK_TICKS = 100;

/** Samples a process's RSS every `intervalMs` until stopped; returns the peak and the samples. */
export function watchRss(pid: number, intervalMs = 100): { stop(): { peak: number; samples: number[] } } {
  const samples: number[] = [];
  const take = () => {
    try {
      samples.push(rssOf(pid));
    } catch {
      // process gone
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { peak: Math.max(...samples), samples };
    },
  };
}

/**
 * `npm start`: the whole system on embedded defaults — Temporal dev server (unless TEMPORAL_ADDRESS
 * points at one), fleet simulator, worker and gateway — and stops everything on Ctrl-C.
 *
 * The processes run compiled JavaScript from dist/ (`node <NODE_FLAGS> dist/worker/main.js`), built first
 * when a source file is newer than the last build, and the worker loads the pre-built workflow bundle
 * (dist/workflow-bundle.js) unless WORKFLOW_BUNDLE_PATH names another. SERVETUNE_TSX=1 runs them from
 * source under tsx instead, with no build, as `npm run worker|api|sim` do.
 */
import type { ChildProcess } from 'node:child_process';
import { intFromEnv, temporalSettings } from '../runtime/settings';
import { readFileSync } from 'node:fs';
import { deploymentVersionFromEnv } from '../worker/deploymentVersion';
import { compiledPath, ensureBuilt, WORKFLOW_BUNDLE } from './build';
import { NODE_FLAGS, spawnNamed, splitHostPort, waitForPort } from './processes';
import { ensureTemporalBinaries } from './temporalBinaries';

const FROM_SOURCE = process.env.SERVETUNE_TSX === '1';

const children: ChildProcess[] = [];
let stopping = false;

function stopAll(code: number): void {
  if (stopping) return;
  stopping = true;
  // Reverse order: gateway and worker stop before the server they talk to.
  for (const child of [...children].reverse()) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
  void Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.once('exit', r))))).then(() => process.exit(code));
}

/** Runs `script` (a .ts path from the project root) compiled, or from source under tsx with SERVETUNE_TSX=1. */
function run(name: string, script: string, env: NodeJS.ProcessEnv = {}, nodeFlags: readonly string[] = []): void {
  const entry = FROM_SOURCE ? ['--import', 'tsx', script] : [compiledPath(script)];
  const child = spawnNamed(name, process.execPath, [...nodeFlags, ...entry], env);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${name} exited (${signal ?? code}); stopping everything`);
      stopAll(1);
    }
  });
  children.push(child);
}

async function main(): Promise<void> {
  const embedded = !process.env.TEMPORAL_ADDRESS;
  const settings = temporalSettings();
  const { host: temporalHost, port: temporalPort } = splitHostPort(settings.address, 7233);
  const uiPort = intFromEnv(process.env.TEMPORAL_UI_PORT, 8233);
  const apiHost = process.env.HOST || '127.0.0.1';
  const apiPort = intFromEnv(process.env.PORT, 8002);
  const simPorts = {
    vllm: intFromEnv(process.env.SIM_VLLM_PORT, 8000),
    tgi: intFromEnv(process.env.SIM_TGI_PORT, 3000),
    sglang: intFromEnv(process.env.SIM_SGLANG_PORT, 30000),
  };

  if (embedded) ensureTemporalBinaries((line) => console.log(`[tools] ${line}`));
  if (!FROM_SOURCE) ensureBuilt((line) => console.log(`${'[build]'.padEnd(11)} ${line}`));
  if (embedded) run('temporal', 'scripts/temporal.ts', { TEMPORAL_PORT: String(temporalPort), TEMPORAL_IP: temporalHost });
  await waitForPort(temporalHost, temporalPort, 60_000, 'Temporal');
  run('sim', 'simulator/main.ts', {}, NODE_FLAGS.sim);
  const bundlePath = FROM_SOURCE ? null : process.env.WORKFLOW_BUNDLE_PATH || WORKFLOW_BUNDLE;
  run('worker', 'worker/main.ts', bundlePath ? { WORKFLOW_BUNDLE_PATH: bundlePath } : {}, NODE_FLAGS.worker);
  run('api', 'api/main.ts', {}, NODE_FLAGS.api);
  await Promise.all([
    ...Object.values(simPorts).map((port) => waitForPort('127.0.0.1', port, 30_000, 'fleet simulator')),
    waitForPort(apiHost, apiPort, 60_000, 'gateway'),
  ]);
  console.log(
    [
      '',
      'servetune is up:',
      `  REST gateway     http://${apiHost}:${apiPort}/api/v1/workflows`,
      `  Temporal         ${settings.address} (namespace ${settings.namespace}, task queue ${settings.taskQueue})`,
      `  worker build     ${workerBuild(bundlePath)}`,
      embedded ? `  Temporal Web UI  http://${temporalHost}:${uiPort}` : '',
      `  simulated vLLM   http://127.0.0.1:${simPorts.vllm}  (replicas: /servetune/v1/replicas)`,
      `  simulated TGI    http://127.0.0.1:${simPorts.tgi}`,
      `  simulated SGLang http://127.0.0.1:${simPorts.sglang}`,
      'Ctrl-C stops everything.',
      '',
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );
}

/** What the worker registers as (docs/upgrading.md): it computes the same from the same bundle. */
function workerBuild(bundlePath: string | null): string {
  if (!bundlePath) return 'bundled by the worker at start-up (its log names the build ID)';
  try {
    const version = deploymentVersionFromEnv(readFileSync(bundlePath, 'utf8'));
    return version ? `${version.deploymentName}:${version.buildId} (new rollouts are pinned to it)` : 'unversioned (SERVETUNE_WORKER_VERSIONING=off)';
  } catch (err) {
    return `unknown (${(err as Error).message})`;
  }
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
main().catch((err) => {
  console.error(`[start] ${(err as Error).message}`);
  stopAll(1);
});

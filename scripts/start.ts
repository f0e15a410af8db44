/**
 * `npm start`: the whole system on embedded defaults — Temporal dev server (unless TEMPORAL_ADDRESS
 * points at one; TEMPORAL_IP, TEMPORAL_PORT, TEMPORAL_UI_PORT and TEMPORAL_DB_FILE move it), fleet simulator,
 * worker and gateway. A crashed worker, gateway or simulator is restarted; Ctrl-C or SIGTERM stops everything.
 *
 * The processes run compiled JavaScript from dist/ (`node <NODE_FLAGS> dist/worker/main.js`), built first
 * when a source file is newer than the last build, and the worker loads the pre-built workflow bundle
 * (dist/workflow-bundle.js) unless WORKFLOW_BUNDLE_PATH names another. SERVETUNE_TSX=1 runs them from
 * source under tsx instead, with no build, as `npm run worker|api|sim` do.
 */
import { intFromEnv, temporalSettings } from '../runtime/settings';
import { readFileSync } from 'node:fs';
import { deploymentVersionFromEnv } from '../worker/deploymentVersion';
import { compiledPath, ensureBuilt, WORKFLOW_BUNDLE } from './build';
import { NODE_FLAGS, PROCESS_ENV, spawnNamed, splitHostPort, waitForPort } from './processes';
import { Supervisor } from './supervisor';
import { ensureTemporalBinaries } from './temporalBinaries';

const FROM_SOURCE = process.env.SERVETUNE_TSX === '1';

const supervisor = new Supervisor((line) => console.log(`${'[start]'.padEnd(11)} ${line}`));

/**
 * Runs `script` (a .ts path from the project root) compiled, or from source under tsx with SERVETUNE_TSX=1.
 * A worker, gateway or simulator that crashes is started again (scripts/supervisor.ts); the Temporal server
 * is not: a dev server that exits has usually lost its port or its file, which a restart would repeat.
 */
function run(name: string, script: string, env: NodeJS.ProcessEnv = {}, nodeFlags: readonly string[] = []): void {
  const entry = FROM_SOURCE ? ['--import', 'tsx', script] : [compiledPath(script)];
  supervisor.start({ name, restart: name !== 'temporal', spawn: () => spawnNamed(name, process.execPath, [...nodeFlags, ...entry], env) });
}

/** Where clients reach a server bound on `ip`: a wildcard bind is reached on loopback. */
function reachableHost(ip: string): string {
  return ip === '0.0.0.0' || ip === '::' ? '127.0.0.1' : ip;
}

async function main(): Promise<void> {
  const embedded = !process.env.TEMPORAL_ADDRESS;
  // Embedded: the dev server binds TEMPORAL_IP:TEMPORAL_PORT and every child is told that address.
  const temporalIp = process.env.TEMPORAL_IP || '127.0.0.1';
  const temporalEnv = embedded ? { TEMPORAL_ADDRESS: `${reachableHost(temporalIp)}:${intFromEnv(process.env.TEMPORAL_PORT, 7233)}` } : {};
  const settings = temporalSettings({ ...process.env, ...temporalEnv });
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
  if (embedded) run('temporal', 'scripts/temporal.ts', { TEMPORAL_PORT: String(temporalPort), TEMPORAL_IP: temporalIp });
  await waitForPort(temporalHost, temporalPort, 60_000, 'Temporal');
  run('sim', 'simulator/main.ts', {}, NODE_FLAGS.sim);
  const bundlePath = FROM_SOURCE ? null : process.env.WORKFLOW_BUNDLE_PATH || WORKFLOW_BUNDLE;
  run('worker', 'worker/main.ts', { ...PROCESS_ENV.worker, ...temporalEnv, ...(bundlePath ? { WORKFLOW_BUNDLE_PATH: bundlePath } : {}) }, NODE_FLAGS.worker);
  run('api', 'api/main.ts', temporalEnv, NODE_FLAGS.api);
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
      embedded ? `  Temporal Web UI  http://${temporalHost}:${uiPort}  (history in ${process.env.TEMPORAL_DB_FILE || '.data/temporal.db'})` : '',
      `  simulated vLLM   http://127.0.0.1:${simPorts.vllm}  (replicas: /servetune/v1/replicas)`,
      `  simulated TGI    http://127.0.0.1:${simPorts.tgi}`,
      `  simulated SGLang http://127.0.0.1:${simPorts.sglang}`,
      'A worker, gateway or simulator that crashes is started again; Ctrl-C stops everything.',
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

process.on('SIGINT', () => supervisor.stopAll(0));
process.on('SIGTERM', () => supervisor.stopAll(0));
main().catch((err) => {
  console.error(`[start] ${(err as Error).message}`);
  supervisor.stopAll(1);
});

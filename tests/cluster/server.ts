/**
 * The Temporal server the production-shape suite runs against: by default the cluster of `npm run
 * cluster` in split mode (four server processes on PostgreSQL), so one service can be restarted.
 * SERVETUNE_TEST_CLUSTER_SERVER=dev runs the same suite on the CLI's dev server instead (no history
 * restart there), which gives the dev-server figures BENCHMARKS.md puts beside the cluster's.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { devServerArgs } from '../../scripts/devServer';
import { freePort, waitForPort } from '../../scripts/processes';
import { startCluster } from '../../scripts/cluster/startCluster';
import { intFromEnv } from '../../runtime/settings';

export interface TestServer {
  kind: 'cluster' | 'dev';
  address: string;
  namespace: string;
  /** Kills the history service and starts it again; null where history is not a process of its own. */
  restartHistory: (() => Promise<void>) | null;
  stop(): Promise<void>;
}

/** Away from `npm run cluster`'s default (17233), so the suite runs while a developer's cluster does. */
const TEST_PORT_BASE = 19233;

export function usesDevServer(env: NodeJS.ProcessEnv = process.env): boolean {
  const kind = env.SERVETUNE_TEST_CLUSTER_SERVER || 'cluster';
  if (kind !== 'cluster' && kind !== 'dev') throw new Error(`SERVETUNE_TEST_CLUSTER_SERVER must be "cluster" or "dev", not "${kind}"`);
  return kind === 'dev';
}

export async function startTestServer(): Promise<TestServer> {
  if (usesDevServer()) return startDev();
  const cluster = await startCluster({
    portBase: intFromEnv(process.env.SERVETUNE_TEST_CLUSTER_PORT_BASE, TEST_PORT_BASE),
    split: true,
    log: (line) => process.stderr.write(`[cluster] ${line}\n`),
  });
  return {
    kind: 'cluster',
    address: cluster.address,
    namespace: cluster.namespace,
    restartHistory: () => cluster.restartService('history'),
    stop: () => cluster.stop(),
  };
}

async function startDev(): Promise<TestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'servetune-cluster-dev-'));
  const port = await freePort();
  const child = spawn(process.env.TEMPORAL_CLI_PATH!, devServerArgs({ ip: '127.0.0.1', port, uiPort: await freePort(), namespace: 'default', dbFile: path.join(dir, 'temporal.db') }), {
    stdio: 'ignore',
    detached: true,
  });
  await waitForPort('127.0.0.1', port, 60_000, 'Temporal dev server');
  return {
    kind: 'dev',
    address: `127.0.0.1:${port}`,
    namespace: 'default',
    restartHistory: null,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `npm run cluster [-- --services-split]`: a Temporal cluster on PostgreSQL, as production runs it
 * (scripts/cluster/startCluster.ts), in the foreground until Ctrl-C, which stops everything it started and
 * removes its temporary data. Then point servetune at it:
 * `TEMPORAL_ADDRESS=127.0.0.1:17233 npm start`. docs/production.md has the details.
 */
import { Command } from 'commander';
import { intFromEnv } from '../runtime/settings';
import { startCluster } from './cluster/startCluster';
import { DEFAULT_PORT_BASE } from './cluster/serverConfig';
import { ensureServerBinaries, TEMPORAL_SERVER_VERSION } from './cluster/serverBinaries';

const program = new Command('cluster')
  .description(`Temporal server ${TEMPORAL_SERVER_VERSION} on a private PostgreSQL, with the namespace and servetune's search attributes`)
  .option('--services-split', 'run frontend, history, matching and worker as four processes', false)
  .option('--port-base <port>', 'frontend port; the cluster uses this port to port+13 (below 32768)', String(intFromEnv(process.env.SERVETUNE_CLUSTER_PORT_BASE, DEFAULT_PORT_BASE)))
  .option('--namespace <name>', 'namespace to create', process.env.TEMPORAL_NAMESPACE || 'default')
  .option('--log-level <level>', "the server's log level (its logs go to files in the cluster's folder)", 'warn')
  .option('--build-only', 'build (or find in the cache) the server and schema tool, then exit: CI builds them while other suites run', false)
  .parse();

const opts = program.opts<{ servicesSplit: boolean; portBase: string; namespace: string; logLevel: string; buildOnly: boolean }>();

async function main(): Promise<void> {
  const log = (line: string) => console.log(`[cluster] ${line}`);
  if (opts.buildOnly) {
    const built = ensureServerBinaries(log);
    log(`server ${built.server}`);
    return;
  }
  const cluster = await startCluster({ portBase: Number(opts.portBase), split: opts.servicesSplit, namespace: opts.namespace, logLevel: opts.logLevel, log });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    cluster.stop().then(() => process.exit(0), (err: Error) => {
      console.error(err);
      process.exit(1);
    });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
  log(`frontend ${cluster.address} (namespace ${cluster.namespace}); Ctrl-C stops it`);
  log(`run servetune on it: TEMPORAL_ADDRESS=${cluster.address} npm start`);
}

main().catch((err: Error) => {
  console.error(`[cluster] ${err.message}`);
  process.exit(1);
});

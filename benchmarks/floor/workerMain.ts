/**
 * The floor's worker process: the same SDK worker as `worker/main.ts` (same connection, same cache
 * setting from WORKER_MAX_CACHED_WORKFLOWS), running the bare floor workflows from the bundle at
 * FLOOR_BUNDLE_PATH and no-op activities.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { DEFAULT_MAX_CACHED_WORKFLOWS, intFromEnv, temporalSettings } from '../../runtime/settings';
import * as activities from './activities';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const settings = temporalSettings();
  const connection = await NativeConnection.connect({ address: settings.address });
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    workflowBundle: { codePath: process.env.FLOOR_BUNDLE_PATH! },
    activities,
    maxCachedWorkflows: intFromEnv(process.env.WORKER_MAX_CACHED_WORKFLOWS, DEFAULT_MAX_CACHED_WORKFLOWS),
  });
  console.log('worker polling');
  await worker.run();
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

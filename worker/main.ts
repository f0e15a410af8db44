/** `npm run worker`: runs rollout workflows and their activities on the task queue. */
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { connectWithRetry } from '../runtime/connect';
import { logger } from '../runtime/logger';
import { intFromEnv, temporalSettings } from '../runtime/settings';
import { createRolloutWorker } from './createWorker';

async function main(): Promise<void> {
  // The SDK logs the workflow bundle's webpack report at INFO; operators want warnings and up by default.
  Runtime.install({ logger: new DefaultLogger((process.env.TEMPORAL_SDK_LOG_LEVEL as LogLevel) || 'WARN') });
  const settings = temporalSettings();
  const connection = await connectWithRetry(() => NativeConnection.connect({ address: settings.address }), `Temporal at ${settings.address}`);
  const worker = await createRolloutWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    maxCachedWorkflows: intFromEnv(process.env.WORKER_MAX_CACHED_WORKFLOWS, 200),
    // A pre-built bundle (`WORKFLOW_BUNDLE_PATH`) skips webpack at start-up: restarts take a second.
    workflowBundle: process.env.WORKFLOW_BUNDLE_PATH ? { codePath: process.env.WORKFLOW_BUNDLE_PATH } : undefined,
  });
  logger.info({ ...settings }, 'worker polling');
  // Worker.run() resolves after SIGINT/SIGTERM once in-flight tasks finish (the SDK installs the handlers).
  await worker.run();
  await connection.close();
  logger.info('worker stopped');
}

main().catch((err) => {
  logger.error({ err }, 'worker failed');
  process.exit(1);
});

/** `npm run worker`: runs rollout workflows and their activities on the task queue. */
import type { LogLevel } from '@temporalio/common';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { connectWithRetry } from '../runtime/connect';
import { logger } from '../runtime/logger';
import { DEFAULT_MAX_CACHED_WORKFLOWS, intFromEnv, temporalSettings } from '../runtime/settings';
import { claimCurrentVersion } from './currentVersion';
import { createRolloutWorker, loadWorkflowBundle, workflowBundleCode } from './createWorker';
import { deploymentVersionFromEnv, setsCurrentVersion } from './deploymentVersion';
import { createWorkerMetrics } from './telemetry';
import { startMetricsServer } from './telemetryServer';
import { parseSdkLogLevel, PinoSdkLogger } from './sdkLogger';

async function main(): Promise<void> {
  // The SDK's logs (workflow `log`, activity context, worker lifecycle, and the Rust core's) go to pino.
  // Its own messages below TEMPORAL_SDK_LOG_LEVEL (default WARN) are dropped: at INFO it prints the bundle's webpack report.
  const sdkLevel = parseSdkLogLevel(process.env.TEMPORAL_SDK_LOG_LEVEL, 'WARN');
  // The SDK's own metrics (task latencies, poll/schedule-to-start, sticky cache, RPCs): the core's Prometheus
  // exporter on loopback, appended to the worker's /metrics. TEMPORAL_SDK_METRICS_PORT=0 turns it off.
  const sdkHost = process.env.TEMPORAL_SDK_METRICS_HOST || '127.0.0.1';
  const sdkPort = intFromEnv(process.env.TEMPORAL_SDK_METRICS_PORT, 9465);
  const sdkMetrics = sdkPort > 0 ? installRuntime(sdkLevel, `${sdkHost}:${sdkPort}`) : (installRuntime(sdkLevel), false);

  const settings = temporalSettings();
  const metrics = createWorkerMetrics({ processMetrics: true });
  // Loopback by default: set WORKER_METRICS_HOST=0.0.0.0 where Prometheus scrapes from elsewhere (compose does).
  const metricsPort = intFromEnv(process.env.WORKER_METRICS_PORT, 9464);
  const metricsHost = process.env.WORKER_METRICS_HOST || '127.0.0.1';
  // A busy port costs the metrics, not the worker: rollouts keep running and the error says why.
  const metricsServer =
    metricsPort > 0
      ? await startMetricsServer({
          registry: metrics.registry,
          host: metricsHost,
          port: metricsPort,
          sdkMetricsUrl: sdkMetrics ? `http://${sdkHost === '0.0.0.0' ? '127.0.0.1' : sdkHost}:${sdkPort}/metrics` : undefined,
        }).catch((err: Error) => {
          logger.error({ err, host: metricsHost, port: metricsPort }, 'worker metrics server failed to start; running without /metrics');
          return null;
        })
      : null;

  // A pre-built bundle (`WORKFLOW_BUNDLE_PATH`) skips webpack at start-up: restarts take a second.
  const workflowBundle = await loadWorkflowBundle(process.env.WORKFLOW_BUNDLE_PATH || undefined);
  // SERVETUNE_DEPLOYMENT_NAME / SERVETUNE_BUILD_ID (default: package version + bundle hash); docs/upgrading.md.
  const deployment = deploymentVersionFromEnv(workflowBundleCode(workflowBundle));
  const makeCurrent = deployment !== null && setsCurrentVersion();

  const connection = await connectWithRetry(() => NativeConnection.connect({ address: settings.address }), `Temporal at ${settings.address}`);
  const worker = await createRolloutWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    maxCachedWorkflows: intFromEnv(process.env.WORKER_MAX_CACHED_WORKFLOWS, DEFAULT_MAX_CACHED_WORKFLOWS),
    workflowBundle,
    metrics,
    deployment: deployment ?? undefined,
  });
  const versionLog = deployment ? { deployment_name: deployment.deploymentName, build_id: deployment.buildId } : { versioning: 'off' };
  logger.info({ ...settings, ...versionLog, metrics: metricsServer?.url ?? 'off', sdk_metrics: sdkMetrics ? `${sdkHost}:${sdkPort}` : 'off' }, 'worker polling');
  // Worker.run() resolves after SIGINT/SIGTERM once in-flight tasks finish (the SDK installs the handlers).
  const running = worker.run();
  if (makeCurrent && deployment) {
    // New rollouts go to this build from now on; rollouts pinned to older builds stay on their workers.
    // A replaced build's worker coming back (a restart mid-upgrade) does not take over again.
    claimCurrentVersion(connection.workflowService, { namespace: settings.namespace, version: deployment }).then(
      (step) =>
        step === 'replaced'
          ? logger.warn(versionLog, 'this build was current before and has been replaced: it only finishes its pinned rollouts (set-current-version makes it current again)')
          : logger.info(versionLog, 'this build is now the current version: new rollouts start on it'),
      (err: Error) => logger.error({ err, ...versionLog }, 'could not make this build the current version; set it with `temporal worker deployment set-current-version`'),
    );
  }
  await running;
  await connection.close();
  await metricsServer?.close();
  logger.info('worker stopped');
}

/** Installs the Temporal Runtime; with `bindAddress`, the SDK's Prometheus exporter too. True if the exporter runs. */
function installRuntime(sdkLevel: LogLevel, bindAddress?: string): boolean {
  const base = {
    logger: new PinoSdkLogger(logger, { sdkLevel }),
    telemetryOptions: { logging: { filter: { core: sdkLevel, other: sdkLevel }, forward: {} } },
  };
  if (bindAddress) {
    try {
      Runtime.install({ ...base, telemetryOptions: { ...base.telemetryOptions, metrics: { prometheus: { bindAddress, useSecondsForDurations: true } } } });
      return true;
    } catch (err) {
      logger.error({ err, bind_address: bindAddress }, 'Temporal SDK metrics exporter failed to start; running without SDK metrics');
    }
  }
  Runtime.install(base);
  return false;
}

main().catch((err) => {
  logger.error({ err }, 'worker failed');
  process.exit(1);
});

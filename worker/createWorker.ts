import { readFileSync } from 'node:fs';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { bundleWorkflowCode, NativeConnection, Worker, type BundleOptions, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type RolloutActivities } from '../activities';
import { logger } from '../runtime/logger';
import { DEFAULT_MAX_CACHED_WORKFLOWS } from '../runtime/settings';
import { ROLLOUT_METRICS_MARKER } from '../workflows/telemetryInterceptor';
import { createWorkerMetrics, type WorkerMetrics } from './telemetry';

/**
 * Workflow interceptor modules bundled with the workflows. Whoever pre-builds a bundle
 * (`bundleWorkflowCode`) must pass these as `workflowInterceptorModules`, or the worker has no rollout metrics.
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [require.resolve('../workflows/telemetryInterceptor')];

/** The workflows the worker bundles (`workflows/index.ts`, or `dist/workflows/index.js` when compiled). */
export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Modules the worker thread evaluates once and every cached workflow shares: the workflows and their
 * interceptor, with everything they import (core/, contract/). Otherwise each workflow in the cache gets
 * its own instance of every one of those modules — its own closures and, as the code warms up, its own
 * inline caches and optimized code — which is most of what a cached rollout costs beyond a bare workflow
 * (BENCHMARKS.md). Sharing is safe because these modules keep no state at module level: the workflow's
 * state lives in its run (rolloutRun's locals), and the SDK functions they import find the current
 * workflow when called, not when the module is evaluated (a lint rule in eslint.config.mjs refuses module-level
 * let, var and collections there; tests/unit/lint/sandboxRules.test.ts checks the rule).
 */
export const PRELOADED_WORKFLOW_MODULES = [WORKFLOWS_PATH, ...WORKFLOW_INTERCEPTOR_MODULES];

type WebpackConfigHook = NonNullable<BundleOptions['webpackConfigHook']>;

/**
 * The bundle's inline source map keeps `mappings` and `sources` but not `sourcesContent`. The SDK maps
 * workflow stack traces with the first two; the sources' text only serves `showStackTraceSources` (off).
 * The text is 0.6 MB, kept in several copies (the bundle string, the parsed map, the workflow thread's copy
 * and its source-map consumer): without it an idle worker is ~15 MiB smaller.
 */
export const withoutSourcesContent: WebpackConfigHook = (config) => ({ ...config, devtool: 'inline-nosources-source-map' });

/** How every rollout bundle is built: at worker start, by scripts/bundleWorkflows.ts (`npm run build`), by the benchmarks. */
export const WORKFLOW_BUNDLE_OPTIONS = {
  workflowsPath: WORKFLOWS_PATH,
  workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
  webpackConfigHook: withoutSourcesContent,
  preloadModules: PRELOADED_WORKFLOW_MODULES,
} satisfies Partial<BundleOptions>;

const quiet = () => undefined;

/**
 * The bundle the worker will run: the pre-built one at `codePath` (read by the SDK), or one made now with
 * WORKFLOW_BUNDLE_OPTIONS.
 */
export async function loadWorkflowBundle(codePath?: string): Promise<WorkflowBundleOption> {
  if (codePath) return { codePath };
  const logger = { trace: quiet, debug: quiet, info: quiet, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m), log: quiet };
  const { code } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger });
  return { code };
}

/** The bundle's text, from which the worker's default build ID is derived (worker/deploymentVersion.ts). */
export function workflowBundleCode(bundle: WorkflowBundleOption): string {
  return 'code' in bundle ? bundle.code : readFileSync(bundle.codePath, 'utf8');
}

/**
 * Every workflow a versioned worker runs is PINNED to its build: a rollout (and the guard that started it)
 * runs to the end on the code that started it, so an upgrade never replays an in-flight rollout on new code.
 * The guard is pinned too: it starts the rollout in its first task and only waits after that, so a claim
 * drains with its rollout and never replays on another build. Set here, as the worker's default, not with
 * `setWorkflowOptions` in workflows/: an annotated workflow fails every task on an unversioned worker
 * ("versioning behavior cannot be specified without deployment options"), and unversioned workers remain
 * supported (SERVETUNE_WORKER_VERSIONING=off, the test stacks).
 */
export const VERSIONING_BEHAVIOR = 'PINNED' as const;

/**
 * How long a workflow task waits on the sticky queue of the worker that ran the rollout's last task
 * before the server hands it to any worker. When that worker has died this is how long the rollout
 * stalls (and a status query waits) before another worker takes over; the SDK's default, set here so
 * the bound tests/cluster/ asserts is this module's value.
 */
export const STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT = '10s';

export interface RolloutWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities?: RolloutActivities;
  /** A pre-built bundle (tests build it once); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: WorkflowBundleOption;
  /**
   * Workflows kept in memory between tasks. A rollout spends nearly all its life in a timer or an
   * approval wait, so a small cache costs only a replay of a short history when it wakes.
   */
  maxCachedWorkflows?: number;
  /** Rollout and activity metrics (and the activities' base logger); a private registry when absent. */
  metrics?: WorkerMetrics;
  /**
   * The Worker Deployment Version this worker serves (worker/deploymentVersion.ts). With it the worker only
   * takes tasks of workflows routed to this version: rollouts pinned to it, and new ones while it is current;
   * the workflows it runs are pinned to it (VERSIONING_BEHAVIOR).
   * Without it the worker is unversioned (tests that do not exercise upgrades).
   */
  deployment?: WorkerDeploymentVersion;
}

function bundleHasMetricsInterceptor(bundle: WorkflowBundleOption): boolean {
  try {
    return workflowBundleCode(bundle).includes(ROLLOUT_METRICS_MARKER);
  } catch {
    return true; // unreadable here: let Worker.create report it
  }
}

export async function createRolloutWorker(opts: RolloutWorkerOptions): Promise<Worker> {
  const metrics = opts.metrics ?? createWorkerMetrics();
  if (opts.workflowBundle && !bundleHasMetricsInterceptor(opts.workflowBundle)) {
    logger.warn('the pre-built workflow bundle lacks the rollout metrics interceptor: build it with workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES');
  }
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities ?? createActivities(),
    ...(opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { webpackConfigHook: withoutSourcesContent, preloadModules: PRELOADED_WORKFLOW_MODULES } }),
    maxCachedWorkflows: opts.maxCachedWorkflows ?? DEFAULT_MAX_CACHED_WORKFLOWS,
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT,
    // workflowModules only applies when the worker bundles; pre-built bundles carry them already.
    interceptors: { activity: [metrics.activityInterceptor], ...(opts.workflowBundle ? {} : { workflowModules: WORKFLOW_INTERCEPTOR_MODULES }) },
    sinks: metrics.sinks,
    ...(opts.deployment ? { workerDeploymentOptions: { useWorkerVersioning: true, version: opts.deployment, defaultVersioningBehavior: VERSIONING_BEHAVIOR } } : {}),
  });
}

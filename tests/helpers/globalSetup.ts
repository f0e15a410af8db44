import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ensureTemporalBinaries } from '../../scripts/temporalBinaries';
import { PRELOADED_WORKFLOW_MODULES, WORKFLOW_INTERCEPTOR_MODULES } from '../../worker/createWorker';

/**
 * Runs once per `jest` run: makes sure the Temporal binaries are there and bundles the workflow
 * code once, so each test file loads the bundle instead of running webpack again.
 */
export default async function globalSetup(): Promise<void> {
  const { cli, testServer } = ensureTemporalBinaries((line) => console.log(`[tools] ${line}`));
  process.env.TEMPORAL_CLI_PATH = cli;
  process.env.TEMPORAL_TEST_SERVER_PATH = testServer;
  const dir = path.join(os.tmpdir(), `servetune-jest-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    // As the worker runs them: one instance of each module, shared by every cached workflow.
    preloadModules: PRELOADED_WORKFLOW_MODULES,
    logger: quietLogger,
  });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  process.env.SERVETUNE_TEST_WORKFLOW_BUNDLE = bundlePath;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

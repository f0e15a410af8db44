import { readFileSync } from 'node:fs';
import { Runtime, DefaultLogger, type WorkflowBundle } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { VERSION_DRAINAGE_DYNAMIC_CONFIG } from '../../scripts/devServer';
import { SEARCH_ATTRIBUTE_KEYS } from '../../contract';

let runtimeInstalled = false;

/** One native runtime per jest worker process, logging only warnings. */
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // Already installed by an earlier file in this worker.
  }
}

function binary(envVar: string): string {
  const p = process.env[envVar];
  if (!p) throw new Error(`${envVar} is not set: run the tests through jest (its globalSetup installs the Temporal binaries)`);
  return p;
}

/**
 * SERVETUNE_TEST_TEMPORAL_ADDRESS (with SERVETUNE_TEST_TEMPORAL_NAMESPACE, default `default`): run the
 * suites against that server instead of a dev server of their own, e.g. the cluster `npm run cluster`
 * starts. It must have servetune's search attributes; each test file uses task queues of its own.
 */
export function externalTemporal(env: NodeJS.ProcessEnv = process.env): { address: string; namespace: string } | null {
  const address = env.SERVETUNE_TEST_TEMPORAL_ADDRESS;
  return address ? { address, namespace: env.SERVETUNE_TEST_TEMPORAL_NAMESPACE || 'default' } : null;
}

/**
 * A real Temporal dev server (the CLI's start-dev), with the rollout's search attributes registered and
 * version drainage refreshed every few seconds as `npm run temporal` does (tests/integration/workerUpgrade.test.ts);
 * or a connection to the external server, whose teardown leaves that server running.
 */
export async function startDevServer(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const external = externalTemporal();
  if (external) return TestWorkflowEnvironment.createFromExistingServer(external);
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: binary('TEMPORAL_CLI_PATH') },
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
      extraArgs: VERSION_DRAINAGE_DYNAMIC_CONFIG,
    },
  });
}

/** The time-skipping test server: timers fire as soon as nothing else is running. */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  installQuietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: binary('TEMPORAL_TEST_SERVER_PATH') } },
  });
  // The test server has no start-up flag for custom search attributes, but takes them over the operator API.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_KEYS.map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
  });
  return env;
}

export function workflowBundle(): WorkflowBundle {
  return { code: readFileSync(binary('SERVETUNE_TEST_WORKFLOW_BUNDLE'), 'utf8') };
}

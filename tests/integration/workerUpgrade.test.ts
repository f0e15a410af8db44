/**
 * A worker upgrade does not strand an in-flight rollout (docs/upgrading.md). On a real dev server:
 * a rollout starts on build A and waits for approval; build B's worker comes up and is made current;
 * the approval then runs the rest of the rollout on A (it is pinned to A), and a rollout started after
 * the switch runs on B. B runs tests/fixtures/incompatibleBuild, whose rollout cannot replay A's histories
 * (an unguarded timer first): the test proves that too, so A's rollout completing shows it never ran on B.
 * Each worker's activities record which build ran them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import axios from 'axios';
import supertest from 'supertest';
import { createActivities, type RolloutActivities } from '../../activities';
import { createApp } from '../../api/app';
import type { SimState, WorkflowState } from '../../models';
import { createFleetSimulator, type FleetSimulator } from '../../simulator/simulatedFleet';
import { version as packageVersion } from '../../package.json';
import { TSX } from '../../scripts/processes';
import { PROJECT_ROOT } from '../../scripts/temporalBinaries';
import { createRolloutWorker, WORKFLOW_INTERCEPTOR_MODULES } from '../../worker/createWorker';
import { buildIdFor } from '../../worker/deploymentVersion';
import { claimCurrentVersion, currentBuildId, setCurrentVersion, versionStatus } from '../../worker/currentVersion';
import { isTerminal } from '../helpers/stack';
import { startDevServer, workflowBundle } from '../helpers/temporal';
import { pinning as pinnedTo, workflowTaskBuilds as taskBuilds } from '../helpers/versioning';
import { deploymentGuardId } from '../../contract';

jest.setTimeout(180_000);

interface ActivityCall {
  build: string;
  workflowId: string;
  activity: string;
}

let env: TestWorkflowEnvironment;
let sim: FleetSimulator;
const running: Array<{ worker: Worker; done: Promise<void> }> = [];
const spawned: ChildProcess[] = [];
const calls: ActivityCall[] = [];
const taskQueue = `upgrade-${Math.random().toString(36).slice(2)}`;
const deploymentName = `servetune-upgrade-${Math.random().toString(36).slice(2)}`;
const namespace = () => env.namespace ?? 'default';

beforeAll(async () => {
  env = await startDevServer();
  sim = await createFleetSimulator({ deployments: [0, 1, 2].map(() => ({ engine: 'vllm' as const, port: 0, replicas: 4 })) });
});

afterAll(async () => {
  for (const child of spawned) if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
  for (const r of running) if (r.worker.getState() === 'RUNNING') r.worker.shutdown();
  await Promise.all(running.map((r) => r.done));
  await sim?.close();
  await env?.teardown();
});

/** The real activities, each call recorded with the build of the worker that ran it. */
function recordingActivities(build: string): RolloutActivities {
  const real = createActivities();
  const wrapped = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(real) as Array<[string, (...args: unknown[]) => unknown]>) {
    wrapped[name] = (...args: unknown[]) => {
      calls.push({ build, workflowId: Context.current().info.workflowExecution?.workflowId ?? 'none', activity: name });
      return fn!(...args);
    };
  }
  return wrapped as RolloutActivities;
}

/** A worker of `build` (unversioned when `deployment` is null) on `queue`, with recording activities. */
async function startWorker(queue: string, build: string, deployment: WorkerDeploymentVersion | null, bundle: WorkflowBundle = workflowBundle()): Promise<{ worker: Worker; done: Promise<void> }> {
  const worker = await createRolloutWorker({
    connection: env.nativeConnection,
    namespace: namespace(),
    taskQueue: queue,
    workflowBundle: bundle,
    activities: recordingActivities(build),
    deployment: deployment ?? undefined,
  });
  const r = { worker, done: worker.run() };
  running.push(r);
  return r;
}

/** A worker of build `buildId` of the deployment `name`, made current as worker/main.ts does at start-up. */
async function startBuild(buildId: string, queue = taskQueue, name = deploymentName, bundle?: WorkflowBundle): Promise<WorkerDeploymentVersion> {
  const version = { deploymentName: name, buildId };
  await startWorker(queue, buildId, version, bundle);
  // Retried until the server has seen this version's pollers.
  await setCurrentVersion(env.connection.workflowService, { namespace: namespace(), version, timeoutMs: 60_000 });
  return version;
}

async function waitFor<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (done(last)) return last;
    } catch {
      // not there yet (the rollout may not have been started by its guard)
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: not reached; last ${JSON.stringify(last)?.slice(0, 1000)}`);
}

let bBundle: WorkflowBundle | undefined;

/** Build B's workflow code: today's, with a rollout that is not replay-compatible (tests/fixtures/incompatibleBuild). */
async function incompatibleBundle(): Promise<WorkflowBundle> {
  if (!bBundle) {
    const quiet = () => undefined;
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../fixtures/incompatibleBuild/workflows'),
      workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
      logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: console.error, log: quiet },
    });
    bBundle = { code };
  }
  return bBundle;
}

async function openWorkflowsPinnedTo(version: WorkerDeploymentVersion): Promise<string[]> {
  const query = `TemporalWorkerDeploymentVersion = '${version.deploymentName}:${version.buildId}' AND ExecutionStatus = 'Running'`;
  return waitFor(`visibility lists ${query}`, async () => {
    const ids: string[] = [];
    for await (const wf of env.client.workflow.list({ query })) ids.push(wf.workflowId);
    return ids.sort();
  }, (ids) => ids.length === 2, 30_000);
}

const pinning = (workflowId: string) => pinnedTo(env.client, workflowId);
const workflowTaskBuilds = (workflowId: string) => taskBuilds(env.client, workflowId);

test('an upgrade to a new build leaves the rollout waiting for approval on its own build, and new rollouts go to the new one', async () => {
  const api = supertest(createApp(env.client, { taskQueue }));
  const state = (id: string) => api.get(`/api/v1/workflows/${id}`).then((r) => r.body as WorkflowState);
  const simState = async (i: number) => (await axios.get<SimState>(`${sim.deployments[i].url}/sim/v1/state`)).data;

  const buildA = await startBuild('A');
  expect(await currentBuildId(env.connection.workflowService, namespace(), deploymentName)).toBe('A');

  const started = await api.post('/api/v1/workflows').send({ instance_type: 'vllm', instance_id: sim.deployments[0].url, requires_approval: true, monitoring_duration_seconds: 1 });
  expect(started.status).toBe(201);
  const first = started.body.workflow_id as string;
  await waitFor('first rollout awaits approval', () => state(first), (s) => s.status === 'awaiting_approval');
  expect(await pinning(first)).toEqual({ behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: 'A' });
  expect(await pinning(deploymentGuardId(sim.deployments[0].url))).toEqual({ behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: 'A' });

  // The upgrade: build B's worker starts and becomes current while A's rollout waits.
  await startBuild('B', taskQueue, deploymentName, await incompatibleBundle());
  expect(await currentBuildId(env.connection.workflowService, namespace(), deploymentName)).toBe('B');
  // What an operator checks before stopping A's workers: A still has a pinned rollout open.
  expect(await versionStatus(env.connection.workflowService, namespace(), buildA)).toBe('DRAINING');
  // ...and which: the visibility query docs/upgrading.md gives operators.
  expect(await openWorkflowsPinnedTo(buildA)).toEqual([deploymentGuardId(sim.deployments[0].url), first].sort());
  // A worker of A restarting now (worker/main.ts's start-up step) does not undo the upgrade.
  expect(await claimCurrentVersion(env.connection.workflowService, { namespace: namespace(), version: buildA })).toBe('replaced');
  expect(await currentBuildId(env.connection.workflowService, namespace(), deploymentName)).toBe('B');
  const callsBeforeApproval = calls.length;

  const approved = await api.post(`/api/v1/workflows/${first}/approve`).send({ approved_by: 'admin' });
  expect(approved.status).toBe(200);
  const firstDone = await waitFor('first rollout ends', () => state(first), isTerminal);
  expect(firstDone.status).toBe('completed');
  expect(firstDone.rollout_history.map((s) => s.status)).toEqual(['success', 'success', 'success']);
  expect((await simState(0)).replicas.every((r) => r.revision === firstDone.optimization_plan!.revision)).toBe(true);
  // Everything after the approval ran on A: its activities and its workflow tasks.
  const firstAfterApproval = calls.slice(callsBeforeApproval).filter((c) => c.workflowId === first);
  expect(firstAfterApproval.length).toBeGreaterThan(0);
  expect(new Set(firstAfterApproval.map((c) => c.build))).toEqual(new Set(['A']));
  expect(await workflowTaskBuilds(first)).toEqual(['A']);
  expect(await pinning(first)).toEqual({ behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: 'A' });
  // B could not have continued it: A's history of this rollout does not replay on B's code.
  const firstHistory = await env.client.workflow.getHandle(first).fetchHistory();
  await expect(Worker.runReplayHistory({ workflowBundle: await incompatibleBundle() }, firstHistory, first)).rejects.toThrow(/[Nn]ondetermin/);
  // With its rollout and guard closed, A is drained: its workers may stop.
  await waitFor('build A drained', () => versionStatus(env.connection.workflowService, namespace(), buildA), (s) => s === 'DRAINED');

  // A rollout started after the switch runs on B.
  const second = await api.post('/api/v1/workflows').send({ instance_type: 'vllm', instance_id: sim.deployments[1].url, requires_approval: false, monitoring_duration_seconds: 1 });
  expect(second.status).toBe(201);
  const secondId = second.body.workflow_id as string;
  const secondDone = await waitFor('second rollout ends', () => state(secondId), isTerminal);
  expect(secondDone.status).toBe('completed');
  expect(await pinning(secondId)).toEqual({ behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: 'B' });
  expect(await workflowTaskBuilds(secondId)).toEqual(['B']);
  const secondCalls = calls.filter((c) => c.workflowId === secondId);
  expect(secondCalls.length).toBeGreaterThan(0);
  expect(new Set(secondCalls.map((c) => c.build))).toEqual(new Set(['B']));
});

test('a rollout started by an unversioned worker (the 0.1.0 release) finishes on the first versioned build', async () => {
  const queue = `${taskQueue}-migrate`;
  const api = supertest(createApp(env.client, { taskQueue: queue }));
  const state = (id: string) => api.get(`/api/v1/workflows/${id}`).then((r) => r.body as WorkflowState);
  const old = await startWorker(queue, 'unversioned', null);

  const started = await api.post('/api/v1/workflows').send({ instance_type: 'vllm', instance_id: sim.deployments[2].url, requires_approval: true, monitoring_duration_seconds: 1 });
  expect(started.status).toBe(201);
  const id = started.body.workflow_id as string;
  await waitFor('rollout awaits approval', () => state(id), (s) => s.status === 'awaiting_approval');
  expect((await pinning(id)).buildId).toBeNull();

  // The upgrade: the first versioned build becomes current, and the unversioned worker is stopped.
  await startBuild('first-versioned', queue, `${deploymentName}-migrate`);
  old.worker.shutdown();
  await old.done;
  const callsBeforeApproval = calls.length;

  const approved = await api.post(`/api/v1/workflows/${id}/approve`).send({ approved_by: 'admin' });
  expect(approved.status).toBe(200);
  const done = await waitFor('rollout ends', () => state(id), isTerminal);
  expect(done.status).toBe('completed');
  // It replayed its unversioned history on the new build (what tests/histories/ guards) and stayed there.
  const after = calls.slice(callsBeforeApproval).filter((c) => c.workflowId === id);
  expect(after.length).toBeGreaterThan(0);
  expect(new Set(after.map((c) => c.build))).toEqual(new Set(['first-versioned']));
  expect(await pinning(id)).toEqual({ behavior: 'VERSIONING_BEHAVIOR_PINNED', buildId: 'first-versioned' });
});

test('npm run worker registers its build (package version + bundle hash) and makes it current', async () => {
  const name = `${deploymentName}-main`;
  const bundlePath = process.env.SERVETUNE_TEST_WORKFLOW_BUNDLE!;
  const child = spawn(TSX, ['worker/main.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      TEMPORAL_ADDRESS: env.address,
      TASK_QUEUE: `${taskQueue}-main`,
      WORKFLOW_BUNDLE_PATH: bundlePath,
      WORKER_METRICS_PORT: '0',
      TEMPORAL_SDK_METRICS_PORT: '0',
      SERVETUNE_DEPLOYMENT_NAME: name,
      SERVETUNE_BUILD_ID: '',
    },
    stdio: 'ignore',
    detached: true,
  });
  spawned.push(child);
  const expected = buildIdFor(packageVersion, readFileSync(bundlePath, 'utf8'));
  const current = await waitFor('the worker process makes its build current', () => currentBuildId(env.connection.workflowService, namespace(), name), (b) => b !== null, 120_000);
  expect(current).toBe(expected);
  expect(await versionStatus(env.connection.workflowService, namespace(), { deploymentName: name, buildId: expected })).toBe('CURRENT');
});

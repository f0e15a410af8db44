/**
 * Makes a Worker Deployment Version current: new rollouts (and their guards) start on it from then on,
 * while rollouts already pinned to an older version stay there. The server refuses a version none of
 * whose workers it has seen poll yet, so a worker calls this after it starts polling and retries until
 * the server has registered it. Same effect as
 * `temporal worker deployment set-current-version --deployment-name <name> --build-id <id>`.
 */
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { currentVersionStep, type CurrentVersionStep } from '../core/currentVersion';

type WorkflowService = temporal.api.workflowservice.v1.WorkflowService;

export interface SetCurrentVersionOptions {
  namespace: string;
  version: WorkerDeploymentVersion;
  /** How long to wait for the server to see the version's pollers (default 60 s). */
  timeoutMs?: number;
  identity?: string;
}

/** gRPC FAILED_PRECONDITION / NOT_FOUND: the version (or the deployment) is not registered yet. */
function isNotRegisteredYet(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  return code === 9 || code === 5;
}

export async function setCurrentVersion(service: WorkflowService, opts: SetCurrentVersionOptions): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    try {
      await service.setWorkerDeploymentCurrentVersion({
        namespace: opts.namespace,
        deploymentName: opts.version.deploymentName,
        buildId: opts.version.buildId,
        identity: opts.identity ?? 'servetune-worker',
      });
      return;
    } catch (err) {
      if (!isNotRegisteredYet(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The build ID new workflows on the deployment go to, or null while none is current. */
export async function currentBuildId(service: WorkflowService, namespace: string, deploymentName: string): Promise<string | null> {
  const res = await service.describeWorkerDeployment({ namespace, deploymentName });
  return res.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId || null;
}

/**
 * `CURRENT`, `DRAINING` (no longer current, pinned workflows still open), `DRAINED` (none open: its workers
 * can stop), `INACTIVE`, ... as `temporal worker deployment describe-version` shows it. The server refreshes
 * drainage periodically (matching.wv.VersionDrainageStatusRefreshInterval, after a visibility grace period).
 */
export async function versionStatus(service: WorkflowService, namespace: string, version: WorkerDeploymentVersion): Promise<string> {
  const res = await service.describeWorkerDeploymentVersion({ namespace, deploymentVersion: version });
  const status = res.workerDeploymentVersionInfo?.status ?? 0;
  return temporal.api.enums.v1.WorkerDeploymentVersionStatus[status].replace('WORKER_DEPLOYMENT_VERSION_STATUS_', '');
}

/**
 * What worker/main.ts does at start-up: waits until the server has registered this worker's build, then
 * makes it current unless it was current before and has been replaced (core/currentVersion.ts). Answers
 * what it found.
 */
export async function claimCurrentVersion(service: WorkflowService, opts: SetCurrentVersionOptions): Promise<CurrentVersionStep> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    let status: string;
    try {
      status = await versionStatus(service, opts.namespace, opts.version);
    } catch (err) {
      if (!isNotRegisteredYet(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    const step = currentVersionStep(status);
    if (step === 'set_current') await setCurrentVersion(service, { ...opts, timeoutMs: Math.max(1_000, deadline - Date.now()) });
    return step;
  }
}

/** What the server says about a rollout's Worker Deployment Version (tests/integration/workerUpgrade.test.ts, tests/cluster/). */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const { VersioningBehavior } = temporal.api.enums.v1;

/** The version a workflow is pinned to, as the server reports it. */
export async function pinning(client: Client, workflowId: string): Promise<{ behavior: string; buildId: string | null }> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  return {
    behavior: VersioningBehavior[info?.behavior ?? 0],
    buildId: info?.deploymentVersion?.buildId ?? null,
  };
}

/** The builds whose workers completed the workflow's tasks, from its history. */
export async function workflowTaskBuilds(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const builds = (history.events ?? [])
    .map((e) => e.workflowTaskCompletedEventAttributes?.deploymentVersion?.buildId)
    .filter((b): b is string => !!b);
  return [...new Set(builds)];
}

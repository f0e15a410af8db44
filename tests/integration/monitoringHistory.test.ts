/**
 * The longest monitoring window the request schema allows must fit in one workflow history
 * (docs/rollout-safety.md, "Bounded history"). Time-skipping server: weeks of workflow time pass in
 * seconds; the replicas are a FakeFleet whose measurements carry payloads of real size (a real vLLM
 * page per sample, the real series and canary judgement).
 */
import { Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { RolloutRequestSchema, type WorkflowState } from '../../models';
import { MONITORING_TICK_BUDGET } from '../../core/monitoring';
import { FakeFleet } from '../helpers/fakeFleet';
import { withFakeFleetWorker } from '../helpers/fakeFleetWorker';
import { startTimeSkippingServer } from '../helpers/temporal';
import { ROLLOUT_WORKFLOW_TYPE } from '../../contract';

jest.setTimeout(600_000);

/** The stated bound (docs/rollout-safety.md): well under Temporal's 51,200 events and 50 MB. */
const MAX_EVENTS = 20_000;
const MAX_BYTES = 20 * 1024 * 1024;

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTimeSkippingServer();
});

afterAll(async () => {
  await env?.teardown();
});

/**
 * Events and encoded bytes of a workflow's history, read page by page over a connection that takes
 * large messages (the test server may answer with the whole history in one page).
 */
async function historySize(workflowId: string): Promise<{ events: number; bytes: number }> {
  const connection = await Connection.connect({ address: env.address, channelArgs: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 } });
  try {
    let events = 0;
    let bytes = 0;
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await connection.workflowService.getWorkflowExecutionHistory({
        namespace: env.namespace ?? 'default',
        execution: { workflowId },
        maximumPageSize: 1000,
        nextPageToken,
      });
      const pageEvents = page.history?.events ?? [];
      events += pageEvents.length;
      bytes += temporal.api.history.v1.History.encode({ events: pageEvents }).finish().length;
      nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return { events, bytes };
  } finally {
    await connection.close();
  }
}

test('a one-week window over 20 stages (the schema\'s longest rollout) stays under the stated history bound', async () => {
  const week = 7 * 24 * 3600;
  const stages = Array.from({ length: 20 }, (_, i) => (i + 1) * 5);
  // The schema's own maximums, so this test breaks if they grow past what the workflow holds.
  const request = RolloutRequestSchema.parse({ instance_id: 'fake-deployment.invalid:8000', instance_type: 'vllm', monitoring_duration_seconds: week, stages });
  expect(RolloutRequestSchema.safeParse({ ...request, monitoring_duration_seconds: week + 1 }).success).toBe(false);
  expect(RolloutRequestSchema.safeParse({ ...request, stages: [...stages.slice(0, 19).map((p) => p - 1), 99.5, 100] }).success).toBe(false);

  const fleet = new FakeFleet({ size: 20, pushMs: 1 });
  await withFakeFleetWorker(env, fleet, 8, async (taskQueue) => {
    const handle = await env.client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `history-${Math.random().toString(36).slice(2)}`,
      args: [{ ...request, replicas: fleet.addresses }],
    });
    const final = (await handle.result()) as WorkflowState;
    expect(final.status).toBe('completed');
    expect(final.rollout_history).toHaveLength(20);
    const samples = final.rollout_history.reduce((n, s) => n + s.samples.length, 0);
    expect(samples).toBeLessThanOrEqual(MONITORING_TICK_BUDGET);
    expect(samples).toBeGreaterThanOrEqual(MONITORING_TICK_BUDGET * 0.9);
    // Each stage still covered its whole week.
    for (const stage of final.rollout_history) expect(Date.parse(stage.completed_at!) - Date.parse(stage.started_at)).toBeGreaterThanOrEqual(week * 1000);

    const { events, bytes } = await historySize(handle.workflowId);
    console.log(`one-week window, 20 stages: ${samples} samples, ${events} history events, ${(bytes / 1024 / 1024).toFixed(2)} MiB`);
    expect(events).toBeLessThan(MAX_EVENTS);
    expect(bytes).toBeLessThan(MAX_BYTES);
  });
});

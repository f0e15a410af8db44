/**
 * Transition overhead: the time a rollout spends per state transition outside simulated work, next
 * to the floor — a bare workflow with the same steps (the same number of no-op activities, and the
 * same minimum timers in the same places) on the same server and the same kind of in-process worker.
 *
 * Rollouts and floors alternate, one at a time, so drift on the shared machine hits both alike.
 * A rollout's transitions do real work (discovery, config reads, scrapes and pushes over HTTP to 10
 * simulated replicas in a child process, analysis, planning); that is the rollout's overhead over the
 * floor. Monitoring windows are set to their minimum and, like the floor's timers, taken out.
 */
import type { WorkflowState } from '../models';
import { uniqueId, rolloutInput, type BenchContext } from './context';
import { orchestrationTimes, stepShape, timerTime, transitionBreakdown, transitionTimes } from './history';
import { median, p99, sum, type Row } from './stats';
import { ROLLOUT_WORKFLOW_TYPE } from '../contract';

export async function transitionOverhead(ctx: BenchContext): Promise<Row[]> {
  const { embedded } = ctx;
  const pairs = ctx.quick ? 1 : 5;
  const rolloutQueue = uniqueId('bench-transitions');
  const floorQueue = uniqueId('bench-floor');
  const fleet = await embedded.spawnFleet(Array.from({ length: pairs + 1 }, () => ({ engine: 'vllm' as const, port: 0, replicas: 10 })));
  const rolloutWorker = await embedded.startRolloutWorker(rolloutQueue);
  const floorWorker = await embedded.startFloorWorker(floorQueue);
  const client = embedded.env.client;

  const rolloutTransitions: number[] = [];
  const floorTransitions: number[] = [];
  // The same transitions less the activities' own execution time: Temporal's and the workflow's share.
  const rolloutOrchestration: number[] = [];
  const floorOrchestration: number[] = [];
  const rolloutPerRun: number[] = [];
  const floorPerRun: number[] = [];
  const wallPerRun: number[] = [];
  let shape: Array<{ a: number; t: number }> = [];
  const split = { rollout: { activity: [] as number[], task: [] as number[] }, floor: { activity: [] as number[], task: [] as number[] } };
  try {
    // One warm-up rollout (first webpack'd isolate, first connections); its shape is the floor's.
    for (let i = 0; i <= pairs; i++) {
      const t0 = performance.now();
      const handle = await client.workflow.start(ROLLOUT_WORKFLOW_TYPE, {
        taskQueue: rolloutQueue,
        workflowId: uniqueId('transitions'),
        args: [rolloutInput({ instance_id: fleet.deployments[i].url })],
      });
      const final = (await handle.result()) as WorkflowState;
      const wall = performance.now() - t0;
      if (final.status !== 'completed') throw new Error(`transition rollout ended ${final.status}: ${final.error_message}`);
      const history = await handle.fetchHistory();
      const times = transitionTimes(history);
      if (i === 0) {
        shape = stepShape(history);
        continue;
      }
      rolloutTransitions.push(...times);
      rolloutOrchestration.push(...orchestrationTimes(history));
      const b = transitionBreakdown(history);
      split.rollout.activity.push(b.activityMs);
      split.rollout.task.push(b.workflowTaskMs);
      rolloutPerRun.push(sum(times) / times.length);
      wallPerRun.push((wall - timerTime(history)) / times.length);

      const floor = await client.workflow.start('floorWorkflow', {
        taskQueue: floorQueue,
        workflowId: uniqueId('floor'),
        args: [shape, 1],
      });
      await floor.result();
      const floorHistory = await floor.fetchHistory();
      const floorTimes = transitionTimes(floorHistory);
      const fb = transitionBreakdown(floorHistory);
      split.floor.activity.push(fb.activityMs);
      split.floor.task.push(fb.workflowTaskMs);
      floorTransitions.push(...floorTimes);
      floorOrchestration.push(...orchestrationTimes(floorHistory));
      floorPerRun.push(sum(floorTimes) / floorTimes.length);
    }
  } finally {
    await rolloutWorker.stop();
    await floorWorker.stop();
    await fleet.stop();
  }

  const n = rolloutTransitions.length / pairs;
  ctx.log(
    `transitions: ${n} per rollout (${sum(shape.map((s) => s.a))} activities, ${sum(shape.map((s) => s.t))} timers, in ${shape.length} steps); ` +
      `rollout p50 ${median(rolloutTransitions).toFixed(1)} ms, floor p50 ${median(floorTransitions).toFixed(1)} ms; ` +
      `mean per run: rollout ${median(rolloutPerRun).toFixed(1)} ms, floor ${median(floorPerRun).toFixed(1)} ms; client-side ${median(wallPerRun).toFixed(1)} ms`,
  );
  const perRun = (total: number[], part: number[]) => median(part) / median(total.map((t) => t * n));
  const splitText = (name: 'rollout' | 'floor', total: number[]) =>
    `${name} per run: activities ${median(split[name].activity).toFixed(0)} ms, workflow tasks ${median(split[name].task).toFixed(0)} ms, ` +
    `server and dispatch ${(median(total) * n - median(split[name].activity) - median(split[name].task)).toFixed(0)} ms (${(100 * (1 - perRun(total, split[name].activity) - perRun(total, split[name].task))).toFixed(0)}%)`;
  ctx.log(`transitions: ${splitText('rollout', rolloutPerRun)}; ${splitText('floor', floorPerRun)}`);
  const ratio = median(rolloutTransitions) / median(floorTransitions);
  return [
    {
      figure: 'Transition overhead, rollout (ms per transition)',
      median: median(rolloutTransitions),
      tail: p99(rolloutTransitions),
      tailLabel: 'p99',
      target: 'p50 ≤ 1.3 × floor; p99 ≤ 100 ms',
      ratio,
      met: ratio <= 1.3 && p99(rolloutTransitions) <= 100,
      samples: `${rolloutTransitions.length} transitions, ${pairs} rollouts`,
    },
    {
      figure: 'Transition, floor: bare workflow, same steps (ms)',
      median: median(floorTransitions),
      tail: p99(floorTransitions),
      tailLabel: 'p99',
      target: '',
      met: null,
      samples: `${floorTransitions.length} transitions, ${pairs} workflows`,
    },
    {
      figure: 'Orchestration overhead per transition, less the activities\' execution (ms)',
      median: median(rolloutOrchestration),
      tail: p99(rolloutOrchestration),
      tailLabel: 'p99',
      target: 'p50 ≤ 1.3 × floor',
      ratio: median(rolloutOrchestration) / median(floorOrchestration),
      met: median(rolloutOrchestration) / median(floorOrchestration) <= 1.3,
      samples: `${rolloutOrchestration.length} transitions; floor p50 ${median(floorOrchestration).toFixed(1)} ms`,
    },
    {
      figure: 'Transition overhead, mean per rollout (ms)',
      median: median(rolloutPerRun),
      tail: Math.max(...rolloutPerRun),
      tailLabel: 'max',
      target: '',
      ratio: median(rolloutPerRun) / median(floorPerRun),
      met: null,
      samples: `${pairs} rollouts vs ${pairs} floors`,
    },
  ];
}

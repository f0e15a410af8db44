/**
 * `npm run bench -- --only tuning`: closed-loop tuning on the simulated SGLang deployment under a heavy
 * load, against a plain grid sweep over the same flags run through the same rollouts (explicit plans,
 * 2-second windows, stages 50% → 100%). Figures: the health each reaches, iterations, and engine
 * restarts spent per point of health gained. Each arm starts from a fresh simulated fleet.
 */
import axios from 'axios';
import type { TuningState, WorkflowState } from '../models';
import { restartsOf, scoreAfter } from '../core/tuningProgress';
import { uniqueId, type BenchContext } from './context';
import type { Row } from './stats';

/** Deployment-wide requests per second: about 2.7 × what the default KV pool serves (16.4 rps saturates it). */
export const HEAVY_SGLANG_RPS = 45;
const ROLLOUT = { instance_type: 'sglang', monitoring_duration_seconds: 2, stages: [50, 100] } as const;

async function fleetUnderLoad(ctx: BenchContext): Promise<{ url: string; close(): Promise<void> }> {
  const fleet = await ctx.embedded.startFleet([{ engine: 'sglang', port: 0, replicas: 10 }]);
  const url = fleet.deployments[0].url;
  const { load } = (await axios.get(`${url}/sim/v1/load`)).data;
  await axios.put(`${url}/sim/v1/load`, { ...load, requests_per_second: HEAVY_SGLANG_RPS });
  return { url, close: () => fleet.close() };
}

async function poll<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Arm {
  initial: number;
  best: number;
  rollouts: number;
  restarts: number;
  log: string[];
}

async function tuningArm(ctx: BenchContext, api: string): Promise<Arm> {
  const fleet = await fleetUnderLoad(ctx);
  try {
    const started = await axios.post(`${api}/api/v1/tunings`, { ...ROLLOUT, instance_id: fleet.url, target_health: 80, budget: { max_iterations: 8 } });
    const id = started.data.tuning_id as string;
    const s = await poll(async () => (await axios.get<TuningState>(`${api}/api/v1/tunings/${id}`)).data, (v) => v.status === 'completed' || v.status === 'failed', 20 * 60_000);
    const log = s.decision_log.map(
      (e) => `${e.iteration}. ${e.source}: ${e.changes.map((c) => `${c.flag} ${String(c.from)}→${String(c.to)}`).join(', ')}: ${e.verdict} (${e.score_before?.toFixed(1) ?? '–'} → ${e.score_after?.toFixed(1) ?? '–'}), ${e.restarts} restarts`,
    );
    log.push(`stop: ${s.stop_reason}`);
    return { initial: s.initial_score ?? 0, best: s.best_score ?? 0, rollouts: s.iterations, restarts: s.restarts_spent, log };
  } finally {
    await fleet.close();
  }
}

/** The grid: each search flag at its lower bound, the default and its upper bound, with the rules' flags set as the rules would. */
const GRID: Record<string, Array<number | boolean>> = {
  mem_fraction_static: [0.83, 0.88, 0.93],
  schedule_conservativeness: [0.3, 1.0, 1.5],
  enable_mixed_chunk: [false, true],
};

function gridPoints(): Array<Record<string, number | boolean>> {
  let points: Array<Record<string, number | boolean>> = [{}];
  for (const [flag, values] of Object.entries(GRID)) points = points.flatMap((p) => values.map((v) => ({ ...p, [flag]: v })));
  return points;
}

async function rollout(api: string, instance: string, engineArgs: Record<string, number | boolean>): Promise<WorkflowState> {
  const started = await poll(
    () => axios.post(`${api}/api/v1/workflows`, { ...ROLLOUT, instance_id: instance, plan_override: { engine_args: engineArgs, reason: 'grid sweep' } }, { validateStatus: () => true }),
    (r) => r.status === 201,
    60_000,
  );
  const id = started.data.workflow_id as string;
  return poll(async () => (await axios.get<WorkflowState>(`${api}/api/v1/workflows/${id}`)).data, (s) => ['completed', 'rolled_back', 'failed', 'rejected'].includes(s.status), 10 * 60_000);
}

async function gridArm(ctx: BenchContext, api: string): Promise<Arm> {
  const fleet = await fleetUnderLoad(ctx);
  try {
    let initial: number | null = null;
    let best = { score: -1, args: {} as Record<string, number | boolean> };
    let restarts = 0;
    let rollouts = 0;
    const log: string[] = [];
    for (const point of gridPoints()) {
      const s = await rollout(api, fleet.url, point);
      rollouts++;
      initial ??= s.analysis_result?.overall_health_score ?? null;
      restarts += restartsOf(s);
      const score = scoreAfter(s) ?? -1;
      log.push(`${JSON.stringify(point)}: ${s.status}, ${score.toFixed(1)}`);
      if (score > best.score) best = { score, args: point };
    }
    // The sweep ends by putting the best point in place.
    const last = await rollout(api, fleet.url, best.args);
    rollouts++;
    restarts += restartsOf(last);
    return { initial: initial ?? 0, best: best.score, rollouts, restarts, log };
  } finally {
    await fleet.close();
  }
}

export async function tuningBench(ctx: BenchContext): Promise<Row[]> {
  const taskQueue = uniqueId('bench-tuning');
  const worker = await ctx.embedded.startRolloutWorker(taskQueue);
  const gateway = await ctx.embedded.startGateway(taskQueue);
  try {
    const tuned = await tuningArm(ctx, gateway.url);
    ctx.log(`tuning run:\n  ${tuned.log.join('\n  ')}`);
    const grid = await gridArm(ctx, gateway.url);
    ctx.log(`grid sweep:\n  ${grid.log.join('\n  ')}`);
    const perPoint = (a: Arm) => (a.best > a.initial ? a.restarts / (a.best - a.initial) : Infinity);
    const samples = `SGLang, 10 replicas, ${HEAVY_SGLANG_RPS} rps`;
    return [
      { figure: 'tuning: health before → best (score)', median: tuned.best, tail: tuned.initial, tailLabel: 'min', target: '≥ 80', met: tuned.best >= 80, samples: `${samples}, ${tuned.rollouts} iterations` },
      { figure: 'grid sweep: best health (score)', median: grid.best, tail: grid.initial, tailLabel: 'min', target: '', met: null, samples: `${samples}, ${grid.rollouts} rollouts` },
      { figure: 'tuning: engine restarts per health point', median: perPoint(tuned), tail: tuned.restarts, tailLabel: 'max', target: '< grid sweep', met: perPoint(tuned) < perPoint(grid), samples: `${tuned.restarts} restarts` },
      { figure: 'grid sweep: engine restarts per health point', median: perPoint(grid), tail: grid.restarts, tailLabel: 'max', target: '', met: null, samples: `${grid.restarts} restarts` },
    ];
  } finally {
    await gateway.close();
    await worker.stop();
  }
}

/**
 * servetune against a real vLLM (the CPU build, `npm run tools -- --vllm`), two engines started once
 * and shared by the ordered blocks below: analyze reads the live page, the agent restarts and
 * restores a real engine (with drained restarts under load), and a Temporal rollout goes over both.
 * Run with `npm run test:vllm` (not part of `npm test`).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import axios from 'axios';
import supertest from 'supertest';
import { createApp } from '../../api/app';
import type { TuningState, WorkflowState } from '../../models';
import { createRolloutWorker } from '../../worker/createWorker';
import { startDevServer, workflowBundle } from '../helpers/temporal';
import { lastLines, startLoad, startRealReplica, type RealReplica } from './realEngines';
import { isTerminalStatus } from '../../contract';

const ROOT = path.resolve(__dirname, '../..');
const run = promisify(execFile);

let a: RealReplica;
let b: RealReplica;

const getJson = async (url: string) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
};
/** A push waits for a real engine restart: minutes. axios (node:http) has no 300 s headers timeout, unlike fetch. */
const put = async (r: RealReplica, revision: string, engine_args: Record<string, unknown>) => {
  const t0 = Date.now();
  const res = await axios.put(`${r.agent.url}/servetune/v1/config`, { revision, engine_args }, { timeout: 30 * 60_000, validateStatus: () => true });
  return { status: res.status, body: res.data, ms: Date.now() - t0 };
};
const status = async (r: RealReplica) => (await getJson(`${r.agent.url}/servetune/v1/status`)).body;
const config = async (r: RealReplica) => (await getJson(`${r.agent.url}/servetune/v1/config`)).body;

/** What the engine itself says it runs with: /v1/models' max_model_len and the cache config labels of its page. */
async function engineReport(r: RealReplica): Promise<{ maxModelLen: number; cache: Record<string, string>; cmdline: string[] }> {
  const models = await getJson(`http://127.0.0.1:${r.enginePort}/v1/models`);
  const page = await (await fetch(`http://127.0.0.1:${r.enginePort}/metrics`)).text();
  const line = page.split('\n').find((l) => l.startsWith('vllm:cache_config_info{'))!;
  const cache = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  const pid = (await status(r)).pid as number;
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '');
  return { maxModelLen: models.body.data[0].max_model_len, cache, cmdline };
}

const flagValue = (cmdline: string[], flag: string): string | undefined => {
  const i = cmdline.indexOf(flag);
  return i >= 0 ? cmdline[i + 1] : undefined;
};

beforeAll(async () => {
  [a, b] = await Promise.all([startRealReplica(0, 'a'), startRealReplica(1, 'b')]);
  const ready = await Promise.all([a.agent.ready, b.agent.ready]);
  if (!ready.every(Boolean)) throw new Error(`an engine did not start:\n--- a\n${lastLines(a.log)}\n--- b\n${lastLines(b.log)}`);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

describe('servetune analyze on a live engine', () => {
  it('reads every snapshot field vLLM V1 gives, and the current args from the agent', async () => {
    const load = startLoad([a.agent.url], { concurrency: 2, pauseMs: 100 });
    try {
      // Traffic before the first scrape, so the window has finished requests in it.
      const deadline = Date.now() + 120_000;
      while (load.result.ok < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin/servetune.js'), 'analyze', '--engine', 'vllm', '--url', a.agent.url, '--interval', '5', '--json'], {
        cwd: ROOT,
        timeout: 120_000,
      });
      const result = JSON.parse(stdout);
      for (const field of [
        'request_rate',
        'requests_running',
        'requests_waiting',
        'kv_cache_usage',
        'preemptions_per_second',
        'ttft_p50_ms',
        'ttft_p95_ms',
        'ttft_p99_ms',
        'itl_p50_ms',
        'itl_p95_ms',
        'e2e_p95_ms',
        'generation_tokens_per_second',
        'error_rate',
      ]) {
        expect([field, result.snapshot[field]]).toEqual([field, expect.any(Number)]);
      }
      expect(result.snapshot.request_rate).toBeGreaterThan(0);
      expect(result.snapshot.error_rate).toBe(0);
      expect(result.current_args.source).toMatch(/^agent: /);
      expect(result.current_args.args).toMatchObject({ max_num_seqs: 8, max_model_len: 512, enable_prefix_caching: false });
    } finally {
      const done = await load.stop();
      expect(done.failed).toEqual([]);
    }
  });
});

describe('servetune agent supervising a real engine', () => {
  it('restarts the engine with a pushed flag under load, and no admitted request fails', async () => {
    const before = await status(a);
    const load = startLoad([a.agent.url], { concurrency: 2, pauseMs: 100 });
    let pushed: Awaited<ReturnType<typeof put>> | undefined;
    try {
      const deadline = Date.now() + 120_000;
      while (load.result.ok < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      pushed = await put(a, 'r-len-256', { max_model_len: 256 });
    } finally {
      await new Promise((r) => setTimeout(r, 2_000));
      const done = await load.stop();
      console.log(`[real vllm] push r-len-256: ${pushed ? pushed.ms : 'no answer'} ms; load ok ${done.ok}, refused ${done.refused}, failed ${done.failed.length}`);
      expect(done.failed).toEqual([]);
      expect(done.ok).toBeGreaterThan(4);
    }
    expect(pushed!.status).toBe(200);
    expect(pushed!.body).toMatchObject({ revision: 'r-len-256', engine: 'vllm', engine_args: { max_model_len: 256 } });
    const after = await status(a);
    expect(after.pid).not.toBe(before.pid);
    expect(after.last_drain).toMatchObject({ drained: true, left: 0 });
    const report = await engineReport(a);
    expect(report.maxModelLen).toBe(256);
    expect(flagValue(report.cmdline, '--max-model-len')).toBe('256');
  });

  it('treats the same revision twice as a no-op', async () => {
    const before = await status(a);
    const again = await put(a, 'r-len-256', { max_model_len: 256 });
    expect(again.status).toBe(200);
    expect(again.ms).toBeLessThan(10_000);
    expect((await status(a)).pid).toBe(before.pid);
    expect((await status(a)).restarts).toBe(before.restarts);
  });

  it("answers a flag the engine refuses with the engine's own error line and brings the previous args back", async () => {
    const before = await status(a);
    const refused = await put(a, 'r-bogus', { bogus_flag: 1 });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('apply_failed');
    expect(refused.body.error.message).toMatch(/revision r-bogus rejected: engine exited with code 2 before becoming healthy: \S+: error: unrecognized arguments: --bogus-flag/);
    expect(refused.body.error.message).toMatch(/restored revision r-len-256$/);
    expect(refused.body.error.message).not.toMatch(/usage:|\[--/);
    expect(await config(a)).toMatchObject({ revision: 'r-len-256', engine_args: { max_model_len: 256 } });
    const after = await status(a);
    expect(after.state).toBe('running');
    expect(after.pid).not.toBe(before.pid);
    const report = await engineReport(a);
    expect(report.maxModelLen).toBe(256);
    expect(report.cmdline).not.toContain('--bogus-flag');
  });
});

describe('a rollout through Temporal over two real replicas', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;

  beforeAll(async () => {
    env = await startDevServer();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await env?.teardown();
  });

  it('reaches a terminal state with every replica on the args the state says', async () => {
    const taskQueue = `real-vllm-${Date.now()}`;
    worker = await createRolloutWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: workflowBundle() });
    running = worker.run();
    const api = supertest(createApp(env.client, { taskQueue }));
    // The tests above left replica a on their last revision, and a rollout refuses a fleet whose replicas
    // run different configs (docs/replica-leases.md): b joins a's config first, so both run one.
    const onA = await config(a);
    expect((await put(b, onA.revision, onA.engine_args)).status).toBe(200);
    const before = { a: await config(a), b: await config(b) };
    expect(before.b).toEqual(before.a);
    const load = startLoad([a.agent.url, b.agent.url], { concurrency: 1, pauseMs: 200 });
    let state: WorkflowState;
    try {
      // A TTFT target no engine meets, so the planner has a bottleneck to address (prefix caching is off).
      const started = await api.post('/api/v1/workflows').send({
        instance_id: a.agent.url,
        instance_type: 'vllm',
        replicas: [a.agent.url, b.agent.url],
        monitoring_duration_seconds: 10,
        stages: [50, 100],
        slo: { ttft_p95_ms: 0.001 },
      });
      expect(started.status).toBe(201);
      const id = started.body.workflow_id as string;
      const deadline = Date.now() + 40 * 60_000;
      for (;;) {
        const res = await api.get(`/api/v1/workflows/${id}`);
        state = res.body as WorkflowState;
        // A worker busy with the engines may miss the query's deadline: the answer is then the rollout's
        // last summary (`live: false`), which can already say `rolled_back` while the rollout lets go of
        // its leases, but carries no plan. Only the live state (or the finished result) is judged.
        if ((res.body as { live?: boolean }).live !== false && isTerminalStatus(state.status)) break;
        if (Date.now() > deadline) throw new Error(`rollout not terminal: ${JSON.stringify(state).slice(0, 1500)}`);
        await new Promise((r) => setTimeout(r, 2_000));
      }
    } finally {
      const done = await load.stop();
      console.log(`[real vllm] rollout load: ok ${done.ok}, refused ${done.refused}, failed ${done.failed.length}`);
      expect(done.failed).toEqual([]);
    }
    console.log(`[real vllm] rollout ${state!.status}: ${state!.total_improvement ?? state!.error_message ?? ''}`);
    const plan = state!.optimization_plan;
    // Which flags the plan holds depends on what the baseline showed beyond its noise margin (on these
    // engines: prefix caching for TTFT, or max_num_seqs for queueing); that there is one is the mechanics.
    console.log(`[real vllm] plan: ${JSON.stringify(plan?.engine_args)}`);
    expect(plan?.optimizations.length).toBeGreaterThan(0);
    const applied = state!.status === 'completed';
    // The engine's own report: prefix caching runs only where a kept plan turned it on (it starts off).
    const prefixCaching = applied && plan!.engine_args.enable_prefix_caching === true ? 'True' : 'False';
    for (const [name, r] of [['a', a], ['b', b]] as const) {
      const now = await config(r);
      const report = await engineReport(r);
      if (applied) {
        expect([name, now.revision]).toEqual([name, plan!.revision]);
        expect(now.engine_args).toMatchObject(plan!.engine_args);
      } else {
        expect([name, now]).toEqual([name, before[name]]);
      }
      expect([name, report.cache.enable_prefix_caching]).toEqual([name, prefixCaching]);
      expect(report.maxModelLen).toBe(now.engine_args.max_model_len);
      expect((await status(r)).state).toBe('running');
    }
  });

  // Mechanics, not the outcome: two iterations, each a real rollout ending as its state says, and both
  // replicas on the args the run kept. Runs after the rollout above, on the fleet it left uniform.
  it('a tuning run of two iterations completes, every replica on the args it kept', async () => {
    const taskQueue = `real-vllm-tuning-${Date.now()}`;
    const tuningWorker = await createRolloutWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, workflowBundle: workflowBundle() });
    const tuningRunning = tuningWorker.run();
    const api = supertest(createApp(env.client, { taskQueue }));
    const load = startLoad([a.agent.url, b.agent.url], { concurrency: 1, pauseMs: 200 });
    let state: TuningState;
    try {
      const started = await api.post('/api/v1/tunings').send({
        instance_id: a.agent.url,
        instance_type: 'vllm',
        replicas: [a.agent.url, b.agent.url],
        monitoring_duration_seconds: 10,
        // One stage: both replicas restart at once (each on its own core), so an iteration costs one
        // restart's time to push and one to revert; the staged path is the rollout test's above.
        stages: [100],
        slo: { ttft_p95_ms: 0.001 },
        target_health: 100,
        budget: { max_iterations: 2 },
      });
      expect(started.status).toBe(201);
      const id = started.body.tuning_id as string;
      const deadline = Date.now() + 40 * 60_000;
      for (;;) {
        const res = await api.get(`/api/v1/tunings/${id}`);
        state = res.body as TuningState;
        if (state.status === 'completed' || state.status === 'failed') break;
        if (Date.now() > deadline) throw new Error(`tuning run not finished: ${JSON.stringify(state).slice(0, 2000)}`);
        await new Promise((r) => setTimeout(r, 5_000));
      }
    } finally {
      const done = await load.stop();
      console.log(`[real vllm] tuning load: ok ${done.ok}, refused ${done.refused}, failed ${done.failed.length}`);
      tuningWorker.shutdown();
      await tuningRunning.catch(() => undefined);
    }
    console.log(`[real vllm] tuning ${state!.status} (${state!.stop_reason}):\n${state!.decision_log.map((e) => `  ${e.iteration} ${JSON.stringify(e.changes)} ${e.verdict} ${e.score_before} → ${e.score_after}`).join('\n')}`);
    expect(state!.status).toBe('completed');
    expect(state!.stop_reason).toBe('budget_iterations');
    expect(state!.decision_log).toHaveLength(2);
    const statusOf = { kept: 'completed', no_change: 'completed', reverted: 'rolled_back', refused: 'rolled_back', rejected: 'rejected', approval_timeout: 'rejected', failed: 'failed' };
    for (const entry of state!.decision_log) {
      const rollout = (await api.get(`/api/v1/workflows/${entry.rollout_id}`)).body as WorkflowState;
      expect([entry.iteration, rollout.status]).toEqual([entry.iteration, statusOf[entry.verdict]]);
    }
    const tuned = [...new Set(state!.decision_log.flatMap((e) => e.changes.map((c) => c.flag)))];
    for (const [name, r] of [['a', a], ['b', b]] as const) {
      const now = await config(r);
      expect([name, Object.fromEntries(tuned.map((f) => [f, now.engine_args[f] ?? null]))]).toEqual([name, Object.fromEntries(tuned.map((f) => [f, state!.current_args![f] ?? null]))]);
      expect((await status(r)).state).toBe('running');
    }
  }, 45 * 60_000);
});

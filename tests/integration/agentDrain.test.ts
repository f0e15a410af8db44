/**
 * Drained restarts (agent/admission.ts, agent/inferenceProxy.ts, agent/engineProcess.ts stop order)
 * against tests/helpers/fakeEngine.ts, which fails its in-flight requests with 500 when its "engine
 * core" child is signalled, as vLLM does. Without the drain and the leader-first stop, the requests
 * below fail; with them, every request admitted before the push succeeds.
 */
import path from 'node:path';
import axios from 'axios';
import { startAgent, type RunningAgent } from '../../agent/server';
import { freePort } from '../../scripts/processes';

const ROOT = path.resolve(__dirname, '../..');
const FAKE = [process.execPath, path.join(ROOT, 'tests/helpers/fakeEngine.ts')];
const ENV = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import tsx`.trim() };
const http = axios.create({ timeout: 60_000, validateStatus: () => true });

async function fakeAgent(drainTimeoutMs: number): Promise<RunningAgent> {
  const agent = await startAgent({
    engine: 'vllm',
    command: [...FAKE, '--port', String(await freePort()), '--max-num-seqs', '8'],
    port: 0,
    healthTimeoutMs: 20_000,
    stopTimeoutMs: 10_000,
    drainTimeoutMs,
    healthIntervalMs: 100,
    process: { cwd: ROOT, env: ENV, forward: null },
  });
  expect(await agent.ready).toBe(true);
  return agent;
}

const complete = (agent: RunningAgent, delay_ms: number) => http.post(`${agent.url}/v1/completions`, { prompt: 'x', delay_ms });
const status = async (agent: RunningAgent) => (await http.get(`${agent.url}/servetune/v1/status`)).data;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('agent: drained restarts', () => {
  let agent: RunningAgent;
  afterEach(async () => agent?.close());

  it('passes inference requests through while the engine admits', async () => {
    agent = await fakeAgent(10_000);
    const res = await complete(agent, 10);
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ object: 'text_completion', pid: (await status(agent)).pid });
    expect((await status(agent)).in_flight).toBe(0);
  });

  it('finishes every request admitted before a push, refuses new ones while draining, then admits on the new engine', async () => {
    agent = await fakeAgent(15_000);
    const oldPid = (await status(agent)).pid;
    const admitted = Array.from({ length: 4 }, () => complete(agent, 2_000));
    await until('4 requests in flight', async () => ((await status(agent)).in_flight === 4 ? true : undefined));
    const push = http.put(`${agent.url}/servetune/v1/config`, { revision: 'r2', engine_args: { max_num_seqs: 16 } });

    // Readiness goes false at once, and new requests are turned away before they reach the engine.
    const health = await until('readiness false', async () => {
      const h = await http.get(`${agent.url}/health`);
      return h.status === 503 ? h : undefined;
    });
    expect(health.data.error.code).toBe('draining');
    const refused = await complete(agent, 10);
    expect(refused.status).toBe(503);
    expect(refused.data.error.code).toBe('draining');
    expect(refused.headers['retry-after']).toBe('1');

    const answers = await Promise.all(admitted);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(answers.every((a) => a.data.pid === oldPid)).toBe(true);
    expect((await push).status).toBe(200);

    const after = await status(agent);
    expect(after.revision).toBe('r2');
    expect(after.pid).not.toBe(oldPid);
    expect(after.last_drain).toMatchObject({ drained: true, left: 0 });
    expect(after.last_drain.after_ms).toBeGreaterThan(500);
    const again = await complete(agent, 10);
    expect(again.status).toBe(200);
    expect(again.data.pid).toBe(after.pid);
  });

  it('stops waiting after the drain timeout and restarts anyway', async () => {
    agent = await fakeAgent(500);
    const slow = complete(agent, 30_000);
    await until('1 request in flight', async () => ((await status(agent)).in_flight === 1 ? true : undefined));
    const t0 = Date.now();
    const push = await http.put(`${agent.url}/servetune/v1/config`, { revision: 'r2', engine_args: { max_num_seqs: 16 } });
    expect(push.status).toBe(200);
    const after = await status(agent);
    expect(after.last_drain).toMatchObject({ drained: false, left: 1 });
    expect(after.last_drain.after_ms).toBeGreaterThanOrEqual(450);
    // The engine's own graceful stop still waits for the request; the stop grace (10 s) ends it.
    expect(Date.now() - t0).toBeLessThan(25_000);
    const answer = await slow;
    expect(answer.status).not.toBe(200);
  });

  it("answers a refused flag with the engine's error line, not its usage text", async () => {
    agent = await fakeAgent(1_000);
    const res = await http.put(`${agent.url}/servetune/v1/config`, { revision: 'bad', engine_args: { refuse: true } });
    expect(res.status).toBe(422);
    expect(res.data.error.message).toMatch(/rejected: engine exited with code 2 before becoming healthy: fake_engine.py: error: unrecognized arguments: --refuse; restored revision initial/);
  });
});

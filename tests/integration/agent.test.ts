/**
 * servetune agent against a real child process: the simulator's single-replica mode
 * (simulator/single.ts), started, restarted and killed by the agent with the engine's CLI flags.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import axios from 'axios';
import { agentConfigTarget } from '../../activities/configTarget';
import { createActivities } from '../../activities/rolloutActivities';
import { startAgent, type AgentOptions, type RunningAgent } from '../../agent/server';
import { ErrorBodySchema, ReplicaConfigSchema, type EngineType } from '../../models';
import { freePort } from '../../scripts/processes';

const ROOT = path.resolve(__dirname, '../..');
/** node with tsx's loader (from NODE_OPTIONS: engine flags start at the first `--`): one process per engine start. */
const SIM = [process.execPath, path.join(ROOT, 'simulator/single.ts')];
const SIM_ENV = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import tsx`.trim() };

const http = axios.create({ timeout: 60_000, validateStatus: () => true });

async function agentFor(engine: EngineType, flags: string[], extra: Partial<AgentOptions> = {}): Promise<RunningAgent> {
  const enginePort = await freePort();
  const agent = await startAgent({
    engine,
    command: [...SIM, engine, '--port', String(enginePort), ...flags],
    port: 0,
    healthTimeoutMs: 20_000,
    stopTimeoutMs: 5_000,
    healthIntervalMs: 100,
    recoveryBackoffMs: 100,
    process: { cwd: ROOT, env: SIM_ENV, forward: null },
    ...extra,
  });
  return agent;
}

const put = (agent: RunningAgent, revision: string, engine_args: Record<string, unknown>) =>
  http.put(`${agent.url}/servetune/v1/config`, { revision, engine_args });

/** The `vllm:cache_config_info` labels on the agent's proxied /metrics page. */
async function cacheConfig(agent: RunningAgent): Promise<Record<string, string>> {
  const res = await http.get(`${agent.url}/metrics`);
  expect(res.status).toBe(200);
  const line = String(res.data)
    .split('\n')
    .find((l) => l.startsWith('vllm:cache_config_info{'));
  expect(line).toBeDefined();
  return Object.fromEntries([...line!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

const status = async (agent: RunningAgent) => (await http.get(`${agent.url}/servetune/v1/status`)).data;

describe('servetune agent supervising the simulator (vLLM)', () => {
  let agent: RunningAgent;
  /** A second agent whose engine gets little time to become healthy; its slow push runs alongside the vLLM tests. */
  let slow: RunningAgent;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let slowPush: Promise<{ status: number; data: any; ms: number }>;

  beforeAll(async () => {
    [agent, slow] = await Promise.all([
      agentFor('vllm', ['--max-num-seqs', '256', '--gpu-memory-utilization', '0.9', '--no-enable-prefix-caching']),
      agentFor('sglang', ['--mem-fraction-static', '0.88', '--disable-radix-cache'], { healthTimeoutMs: 6_000 }),
    ]);
    expect(await Promise.all([agent.ready, slow.ready])).toEqual([true, true]);
    // The pushed revision's engine needs a minute to load: longer than the agent's 6 s health timeout.
    const t0 = Date.now();
    slowPush = put(slow, 'slow-1', { mem_fraction_static: 0.8, startup_ms: 60_000 }).then((r) => ({ status: r.status, data: r.data, ms: Date.now() - t0 }));
  });

  afterAll(async () => {
    await Promise.all([agent?.close(), slow?.close()]);
  });

  it('reports the launch command as revision "initial" with the args read back from its flags', async () => {
    const config = ReplicaConfigSchema.parse((await http.get(`${agent.url}/servetune/v1/config`)).data);
    expect(config).toEqual({
      revision: 'initial',
      engine: 'vllm',
      engine_args: { max_num_seqs: 256, gpu_memory_utilization: 0.9, enable_prefix_caching: false },
    });
    expect((await http.get(`${agent.url}/servetune/v1/replicas`)).data).toEqual({ replicas: [agent.url] });
    expect((await http.get(`${agent.url}/health`)).status).toBe(200);
    expect(await cacheConfig(agent)).toMatchObject({ gpu_memory_utilization: '0.9', enable_prefix_caching: 'False', cache_dtype: 'auto' });
    const s = await status(agent);
    expect(s).toMatchObject({ state: 'running', revision: 'initial', restarts: 0, last_error: null });
    expect(s.command).toEqual(expect.arrayContaining(['--max-num-seqs', '256', '--no-enable-prefix-caching']));
  });

  it('a push restarts the engine with the new flags; the same revision again is a no-op', async () => {
    const before = await status(agent);
    const res = await put(agent, 'r2', { max_num_seqs: 128, gpu_memory_utilization: 0.85, enable_prefix_caching: true, kv_cache_dtype: 'fp8' });
    expect(res.status).toBe(200);
    expect(res.data).toEqual({
      revision: 'r2',
      engine: 'vllm',
      engine_args: { max_num_seqs: 128, gpu_memory_utilization: 0.85, enable_prefix_caching: true, kv_cache_dtype: 'fp8' },
    });
    const after = await status(agent);
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(before.restarts + 1);
    expect(after.command).toEqual(expect.arrayContaining(['--max-num-seqs', '128', '--enable-prefix-caching', '--kv-cache-dtype', 'fp8']));
    expect(await cacheConfig(agent)).toMatchObject({ gpu_memory_utilization: '0.85', enable_prefix_caching: 'True', cache_dtype: 'fp8' });

    const again = await put(agent, 'r2', { max_num_seqs: 1 });
    expect(again.status).toBe(200);
    expect(again.data.revision).toBe('r2');
    expect(again.data.engine_args.max_num_seqs).toBe(128);
    expect(await status(agent)).toMatchObject({ pid: after.pid, restarts: after.restarts });
  });

  it('serializes concurrent pushes; a push of the revision being applied waits for that apply', async () => {
    const before = await status(agent);
    const [a, b, c] = await Promise.all([
      put(agent, 'r3', { max_num_seqs: 96 }),
      put(agent, 'r3', { max_num_seqs: 96 }),
      put(agent, 'r4', { max_num_seqs: 64, enable_prefix_caching: true }),
    ]);
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect([a.data.revision, b.data.revision, c.data.revision]).toEqual(['r3', 'r3', 'r4']);
    const after = await status(agent);
    expect(after.restarts).toBe(before.restarts + 2);
    expect(after.revision).toBe('r4');
  });

  it('args the engine refuses: it crashes, the previous args come back, 422 with its stderr', async () => {
    const before = await status(agent);
    const res = await put(agent, 'bad-1', { gpu_memory_utilization: 0.3 });
    expect(res.status).toBe(422);
    const body = ErrorBodySchema.parse(res.data);
    expect(body.error.code).toBe('apply_failed');
    expect(body.error.message).toMatch(/revision bad-1 rejected: engine exited with code 1/);
    expect(body.error.message).toMatch(/No available memory for the cache blocks at gpu_memory_utilization 0.3/);
    expect(body.error.message).toMatch(/restored revision r4/);
    expect(body.error.details).toContainEqual({ field: 'stderr', message: expect.stringContaining('gpu_memory_utilization') });

    expect((await http.get(`${agent.url}/servetune/v1/config`)).data).toMatchObject({ revision: 'r4', engine_args: { max_num_seqs: 64, enable_prefix_caching: true } });
    expect((await http.get(`${agent.url}/health`)).status).toBe(200);
    const after = await status(agent);
    expect(after).toMatchObject({ state: 'running', revision: 'r4', restarts: before.restarts + 2 });
    expect(after.pid).not.toBe(before.pid);
    expect(after.last_error.stderr.join('\n')).toMatch(/gpu_memory_utilization/);
    expect(await cacheConfig(agent)).toMatchObject({ gpu_memory_utilization: '0.9', enable_prefix_caching: 'True' });
  });

  it('refuses malformed pushes and launch flags without touching the engine', async () => {
    const before = await status(agent);
    const missing = await http.put(`${agent.url}/servetune/v1/config`, { engine_args: {} });
    expect(missing.status).toBe(400);
    expect(missing.data.error.code).toBe('invalid_request');
    const launch = await put(agent, 'r-port', { port: 1234 });
    expect(launch.status).toBe(400);
    expect(launch.data.error).toMatchObject({ code: 'invalid_engine_args', details: [{ field: 'engine_args.port' }] });
    expect(await status(agent)).toMatchObject({ pid: before.pid, revision: 'r4' });
  });

  it('an engine that dies on its own is restarted on the current revision', async () => {
    const before = await status(agent);
    process.kill(-before.pid, 'SIGKILL');
    let now = before;
    for (let i = 0; i < 100 && !(now.state === 'running' && now.pid !== before.pid && now.pid !== null); i++) {
      await sleep(100);
      now = await status(agent);
    }
    expect(now).toMatchObject({ state: 'running', revision: 'r4' });
    expect(now.last_error.message).toMatch(/killed by SIGKILL while running revision r4/);
    expect((await http.get(`${agent.url}/health`)).status).toBe(200);
  });

  it('the rollout activities read, push, sample and roll back through the agent', async () => {
    const client = axios.create({ timeout: 10_000 });
    const activities = createActivities({ http: client, configTarget: agentConfigTarget(client, 60_000), concurrency: 4 });
    // The refused push below is an expected activity failure: keep its WARN line out of the test output.
    const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    const run = <I, O>(fn: (input: I) => Promise<O>, input: I): Promise<O> => env.run<[I], O, (input: I) => Promise<O>>(fn, input);
    const discovered = await run(activities.discoverReplicas, { instance_id: agent.url });
    expect(discovered.replicas).toEqual([agent.url]);
    const fleet = { instance_id: agent.url, count: 1, digest: discovered.digest };
    const all = { from: 0, to: 1 };
    const [previous] = await run(activities.readReplicaConfigs, { fleet });
    expect(previous).toMatchObject({ revision: 'r4', from: 0, to: 1 });
    const sample = await run(activities.sampleFleet, { engine: 'vllm', fleet, range: all });
    expect(sample).toBeDefined();

    const applied = await run(activities.applyConfig, { fleet, range: all, revision: 'act-1', engine_args: { ...previous.engine_args, max_num_seqs: 192 } });
    expect(applied).toEqual({ applied: 1 });
    expect(await run(activities.readReplicaConfigs, { fleet })).toEqual([
      { revision: 'act-1', engine: 'vllm', engine_args: { ...previous.engine_args, max_num_seqs: 192 }, from: 0, to: 1 },
    ]);

    const refused = run(activities.applyConfig, { fleet, range: all, revision: 'act-bad', engine_args: { ...previous.engine_args, gpu_memory_utilization: 0.3 } });
    await expect(refused).rejects.toMatchObject({ type: 'ConfigRejected', nonRetryable: true, message: expect.stringContaining('HTTP 422') });

    const rolledBack = await run(activities.rollbackReplicas, { groups: [{ revision: previous.revision, engine_args: previous.engine_args, addresses: [agent.url] }] });
    expect(rolledBack).toEqual({ restored: 1 });
    expect(await run(activities.readReplicaConfigs, { fleet })).toEqual([previous]);

    // The pushes claimed the replica for the calling rollout (the mock's workflow id); a push from
    // elsewhere is refused until the rollout's end releases it.
    expect((await http.get(`${agent.url}/servetune/v1/lease`)).data).toMatchObject({ holder: 'test' });
    expect((await put(agent, 'someone-else', { max_num_seqs: 64 })).status).toBe(409);
    expect(await run(activities.releaseReplicas, { addresses: [agent.url] })).toEqual({ released: 1, held_by_others: 0 });
    expect(await run(activities.releaseReplicas, { addresses: [agent.url] })).toEqual({ released: 0, held_by_others: 0 });
    expect((await http.get(`${agent.url}/servetune/v1/lease`)).data).toEqual({ holder: null, expires_at: null });

    // A fleet reference whose digest no longer matches is refused rather than pushed to.
    await expect(run(activities.applyConfig, { fleet: { ...fleet, digest: 'stale' }, range: all, revision: 'act-2', engine_args: previous.engine_args })).rejects.toMatchObject({
      type: 'FleetChanged',
      nonRetryable: true,
    });
    expect(await cacheConfig(agent)).toMatchObject({ enable_prefix_caching: 'True' });
  });

  it('an engine that does not become healthy within the timeout is rolled back (SGLang)', async () => {
    const res = await slowPush;
    expect(res.status).toBe(422);
    expect(res.data.error.code).toBe('apply_failed');
    expect(res.data.error.message).toMatch(/revision slow-1 rejected: engine not healthy at .* within 6000 ms; restored revision initial/);
    expect(res.ms).toBeGreaterThanOrEqual(6_000);
    expect((await http.get(`${slow.url}/servetune/v1/config`)).data).toEqual({
      revision: 'initial',
      engine: 'sglang',
      engine_args: { mem_fraction_static: 0.88, disable_radix_cache: true },
    });
    expect((await http.get(`${slow.url}/health`)).status).toBe(200);
    const info = await http.get(`${slow.url}/get_server_info`);
    expect(info.status).toBe(200);
    expect(info.data).toMatchObject({ mem_fraction_static: 0.88, disable_radix_cache: true });
  });
});

describe('servetune agent whose launch args the engine refuses', () => {
  let agent: RunningAgent;

  beforeAll(async () => {
    // No automatic restart during the test: every start below is a push's.
    agent = await agentFor('vllm', ['--gpu-memory-utilization', '0.3'], { recoveryBackoffMs: 600_000 });
  });

  afterAll(async () => {
    await agent?.close();
  });

  it('reports the engine down, answers 502 while nothing healthy can be restored, and comes back on good args', async () => {
    expect(await agent.ready).toBe(false);
    expect(await status(agent)).toMatchObject({ state: 'down', revision: 'initial', pid: null });
    expect((await http.get(`${agent.url}/health`)).status).toBe(503);
    expect((await http.get(`${agent.url}/metrics`)).status).toBe(502);

    // The current revision again: a restart attempt, which fails the same way.
    const same = await put(agent, 'initial', {});
    expect(same.status).toBe(502);
    expect(same.data.error.code).toBe('engine_unavailable');

    // A new revision that fails too, and the previous one cannot be restored.
    const worse = await put(agent, 'bad-2', { gpu_memory_utilization: 0.2 });
    expect(worse.status).toBe(502);
    expect(worse.data.error.message).toMatch(/revision bad-2 rejected: .*restoring revision initial failed too/);
    expect((await http.get(`${agent.url}/servetune/v1/config`)).data.revision).toBe('initial');

    const fixed = await put(agent, 'fixed', { gpu_memory_utilization: 0.9 });
    expect(fixed.status).toBe(200);
    expect(fixed.data).toEqual({ revision: 'fixed', engine: 'vllm', engine_args: { gpu_memory_utilization: 0.9 } });
    expect((await http.get(`${agent.url}/health`)).status).toBe(200);
    expect(await status(agent)).toMatchObject({ state: 'running', revision: 'fixed', restarts: 4 });
  });
});

describe('servetune agent (the command)', () => {
  it('starts the engine from the command after --, serves its config, and stops it on SIGTERM', async () => {
    const [port, enginePort] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin/servetune.js'), 'agent', '--port', String(port), '--', ...SIM, 'vllm', '--port', String(enginePort), '--max-num-seqs', '32', '--enable-prefix-caching'],
      { cwd: ROOT, env: SIM_ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let health = 0;
      for (let i = 0; i < 150 && health !== 200; i++) {
        await sleep(100);
        health = await http.get(`http://127.0.0.1:${port}/health`).then((r) => r.status, () => 0);
      }
      expect(health).toBe(200);
      expect((await http.get(`http://127.0.0.1:${port}/servetune/v1/config`)).data).toEqual({
        revision: 'initial',
        engine: 'vllm',
        engine_args: { max_num_seqs: 32, enable_prefix_caching: true },
      });
      const enginePid = (await http.get(`http://127.0.0.1:${port}/servetune/v1/status`)).data.pid as number;
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('engine healthy');
      expect(() => process.kill(-enginePid, 0)).toThrow();
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});

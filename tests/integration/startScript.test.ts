/**
 * `npm start` (scripts/start.ts) as an operator runs it, on ports other than the defaults: the embedded
 * Temporal server moves with TEMPORAL_PORT, TEMPORAL_UI_PORT and TEMPORAL_DB_FILE; a worker killed with
 * SIGKILL is started again while the rest keeps running; SIGTERM stops every child. The documented `jq`
 * recipe (docs/operations.md) is run on the lines this `npm start` really printed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import axios from 'axios';
import { freePort, waitForPort } from '../../scripts/processes';
import { PROJECT_ROOT } from '../../scripts/temporalBinaries';

jest.setTimeout(300_000);

const dir = mkdtempSync(path.join(os.tmpdir(), 'servetune-start-'));
const dbFile = path.join(dir, 'history', 'temporal.db');
const lines: string[] = [];
let start: ChildProcess | undefined;
let ports: Record<'temporal' | 'ui' | 'api' | 'vllm' | 'tgi' | 'sglang', number>;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}; last lines:\n${lines.slice(-40).join('\n')}`);
}

/** Pids `npm start` reported for a child, in order. */
const pidsOf = (name: string): number[] =>
  lines.flatMap((l) => {
    const m = new RegExp(`^\\[start\\] +${name} started, pid (\\d+)$`).exec(l);
    return m ? [Number(m[1])] : [];
  });

beforeAll(async () => {
  ports = { temporal: 0, ui: 0, api: 0, vllm: 0, tgi: 0, sglang: 0 };
  for (const key of Object.keys(ports) as Array<keyof typeof ports>) ports[key] = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: '',
    TEMPORAL_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    TEMPORAL_DB_FILE: dbFile,
    PORT: String(ports.api),
    SIM_VLLM_PORT: String(ports.vllm),
    SIM_TGI_PORT: String(ports.tgi),
    SIM_SGLANG_PORT: String(ports.sglang),
    WORKER_METRICS_PORT: '0',
    TEMPORAL_SDK_METRICS_PORT: '0',
    TASK_QUEUE: `start-script-${process.pid}`,
    LOG_LEVEL: 'info',
    // From source: no build of dist/ in a test.
    SERVETUNE_TSX: '1',
  };
  start = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let buffered = '';
  const keep = (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    lines.push(...parts);
  };
  start.stdout?.on('data', keep);
  start.stderr?.on('data', keep);
  await until('the banner', () => (lines.some((l) => l.startsWith('servetune is up')) ? true : undefined), 180_000);
});

afterAll(() => {
  // Only if a test failed before its SIGTERM: the script's process group, children included.
  if (start?.pid && start.exitCode === null && start.signalCode === null) {
    try {
      process.kill(-start.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const pid of ['sim', 'worker', 'api', 'temporal'].flatMap(pidsOf)) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('the embedded Temporal server listens on TEMPORAL_PORT, its Web UI on TEMPORAL_UI_PORT, its history in TEMPORAL_DB_FILE', async () => {
  await waitForPort('127.0.0.1', ports.temporal, 10_000, 'Temporal');
  await waitForPort('127.0.0.1', ports.ui, 60_000, 'Temporal Web UI');
  expect(existsSync(dbFile)).toBe(true);
  expect(lines).toContainEqual(expect.stringMatching(new RegExp(`Temporal +127\\.0\\.0\\.1:${ports.temporal} `)));
  // The gateway reaches Temporal on that port: ready.
  const ready = await until('a ready gateway', async () => {
    const res = await axios.get(`http://127.0.0.1:${ports.api}/readyz`, { validateStatus: () => true });
    return res.status === 200 ? res.data : undefined;
  });
  expect(ready).toMatchObject({ status: 'ready' });
});

test('a worker killed with SIGKILL is started again, and the gateway and simulator keep running', async () => {
  const polling = () => lines.filter((l) => l.startsWith('[worker]') && l.includes('"worker polling"')).length;
  await until('the worker polling', () => (polling() >= 1 ? true : undefined));
  const [worker] = pidsOf('worker');
  const [api] = pidsOf('api');
  const [sim] = pidsOf('sim');
  process.kill(worker, 'SIGKILL');

  const second = await until('a second worker pid', () => pidsOf('worker')[1]);
  expect(second).not.toBe(worker);
  expect(lines).toContainEqual(expect.stringMatching(/^\[start\] +worker exited \(SIGKILL\) after \d+ s; restarting in 1 s \(restart 1 in a row\)$/));
  await until('the new worker polling', () => (polling() >= 2 ? true : undefined));
  expect(alive(second)).toBe(true);
  expect([alive(api), alive(sim)]).toEqual([true, true]);
  expect(pidsOf('api')).toEqual([api]);
  expect(pidsOf('sim')).toEqual([sim]);
  // Still serving: the simulator answers, the gateway is ready.
  expect((await axios.get(`http://127.0.0.1:${ports.vllm}/sim/v1/state`)).status).toBe(200);
  expect((await axios.get(`http://127.0.0.1:${ports.api}/readyz`)).status).toBe(200);
});

test("the documented jq recipe picks one rollout's JSON lines out of npm start's prefixed output", async () => {
  const id = 'rollout-not-there-0001';
  // A read of a rollout that does not exist: the gateway logs the refusal (404) with its workflow_id.
  expect((await axios.get(`http://127.0.0.1:${ports.api}/api/v1/workflows/${id}`, { validateStatus: () => true })).status).toBe(404);
  await until('the 404 logged', () => (lines.some((l) => l.startsWith('[api]') && l.includes(id)) ? true : undefined), 20_000);

  const docs = readFileSync(path.join(PROJECT_ROOT, 'docs', 'operations.md'), 'utf8');
  const recipe = /^npm start \| (jq .+)$/m.exec(docs)?.[1];
  expect(recipe).toBeDefined();
  const output = `${lines.join('\n')}\n`;
  // Non-JSON lines are in the input: the dev server's, npm start's own, a warning on a child's stderr.
  expect(lines.some((l) => l.startsWith('[temporal]') || l.startsWith('[start]'))).toBe(true);
  const picked = execFileSync('sh', ['-c', recipe!.replace('rollout-…', id)], { input: `${output}[worker]    (node:1) Warning: not JSON\n`, encoding: 'utf8' });
  const records = picked.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(records.length).toBeGreaterThanOrEqual(1);
  expect(records.every((r) => r.workflow_id === id)).toBe(true);
  expect(records).toContainEqual(expect.objectContaining({ status: 404 }));
});

test('SIGTERM stops every child and exits 0', async () => {
  const children = ['sim', 'worker', 'api', 'temporal'].map((name) => pidsOf(name).at(-1)!);
  expect(children.every(alive)).toBe(true);
  const exited = new Promise<number | null>((resolve) => start!.once('exit', (code) => resolve(code)));
  start!.kill('SIGTERM');
  expect(await exited).toBe(0);
  await until('every child gone', () => (children.some(alive) ? undefined : true), 30_000);
  // Nothing restarted on the way down.
  expect(pidsOf('worker')).toHaveLength(2);
});

/** Tuning runs as the integration tests drive them: through the stack's gateway and `servetune tune`. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../api/app';
import { run } from '../../cli/main';
import type { TuningState } from '../../models';
import type { Stack } from './stack';

export const tuningEnded = (s: TuningState) => s.status === 'completed' || s.status === 'failed';

/** Polls the gateway until the run's state satisfies `done` (or throws after `timeoutMs`). */
export async function waitForTuning(stack: Stack, id: string, done: (s: TuningState) => boolean, timeoutMs = 180_000): Promise<TuningState> {
  const deadline = Date.now() + timeoutMs;
  let last: TuningState | undefined;
  while (Date.now() < deadline) {
    const res = await stack.api.get(`/api/v1/tunings/${id}`);
    if (res.status === 200) {
      last = res.body as TuningState;
      if (done(last)) return last;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`tuning ${id} did not reach the expected state; last: ${JSON.stringify(last)?.slice(0, 3000)}`);
}

export type TuneCli = (...args: string[]) => Promise<{ code: number; out: string; err: string }>;

/** `servetune tune …` against a gateway of the stack's task queue on a real port, for the body's length. */
export async function withTuneCli<T>(stack: Stack, body: (tune: TuneCli) => Promise<T>): Promise<T> {
  const server: Server = createApp(stack.env.client, { taskQueue: stack.taskQueue }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tune: TuneCli = async (...args) => {
    let out = '';
    let err = '';
    const deps = { env: { SERVETUNE_URL: url }, timeoutMs: 30_000, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)), now: () => Date.now(), terminal: () => ({ isTTY: false }) };
    const code = await run(['node', 'servetune', 'tune', ...args], { out: (t) => void (out += t), err: (t) => void (err += t) }, deps);
    return { code, out, err };
  };
  try {
    return await body(tune);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

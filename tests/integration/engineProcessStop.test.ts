/**
 * EngineProcess.stop signals the group leader (the API server) first and the rest of the group only
 * after it: tests/helpers/fakeEngine.ts fails its in-flight requests with 500 when its "engine core"
 * child is signalled before the API server has finished them, as vLLM does.
 */
import path from 'node:path';
import { EngineProcess } from '../../agent/engineProcess';
import { freePort } from '../../scripts/processes';

const ROOT = path.resolve(__dirname, '../..');
const ENV = { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import tsx`.trim() };

async function healthy(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} never became healthy`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('EngineProcess.stop', () => {
  it('lets the API server finish a request in flight before its engine core is stopped, and leaves no process behind', async () => {
    const port = await freePort();
    const engine = new EngineProcess([process.execPath, path.join(ROOT, 'tests/helpers/fakeEngine.ts'), '--port', String(port)], { cwd: ROOT, env: ENV, forward: null });
    try {
      const url = `http://127.0.0.1:${port}`;
      await healthy(url);
      const inFlight = fetch(`${url}/v1/completions`, { method: 'POST', body: JSON.stringify({ delay_ms: 1_500 }) });
      // The request has reached the engine once its own gauge counts it.
      for (let seen = false; !seen; ) {
        seen = (await (await fetch(`${url}/metrics`)).text()).includes('fake:in_flight 1');
        if (!seen) await new Promise((r) => setTimeout(r, 20));
      }
      const exit = await engine.stop(10_000);
      expect((await inFlight).status).toBe(200);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(engine.groupAlive()).toBe(false);
    } finally {
      await engine.stop(1_000);
    }
  });

  it('signals the rest of the group when the leader has gone and left it behind', async () => {
    // A leader that exits at once on SIGTERM and leaves a child that ignores SIGTERM: SIGKILL ends it.
    const script = "const c = require('child_process').spawn(process.execPath, ['-e', 'process.on(\"SIGTERM\", () => {}); setInterval(() => {}, 1e6)'], { stdio: 'ignore' }); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1e6);";
    const engine = new EngineProcess([process.execPath, '-e', script], { forward: null });
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    await engine.stop(3_000, 200);
    expect(engine.groupAlive()).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2_500); // the child outlived SIGTERM until the grace was over
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { describeExit, type EngineProcess } from './engineProcess';

/** One health probe: true on a 2xx within `timeoutMs`, false on anything else (refused, 503, timeout). */
export async function probe(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok;
  } catch {
    return false;
  }
}

export type Readiness = { ok: true; afterMs: number } | { ok: false; reason: string };

/**
 * Polls `healthUrl` until it answers 2xx. Fails as soon as the engine exits, or after `timeoutMs`.
 * `shouldStop` ends the wait early (the agent is shutting down).
 */
export async function waitHealthy(
  engine: EngineProcess,
  healthUrl: string,
  timeoutMs: number,
  opts: { intervalMs?: number; shouldStop?: () => boolean } = {},
): Promise<Readiness> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const interval = opts.intervalMs ?? 200;
  for (;;) {
    if (!engine.running) return { ok: false, reason: `engine ${describeExit(engine.exit!)} before becoming healthy` };
    if (opts.shouldStop?.()) return { ok: false, reason: 'agent is shutting down' };
    const left = deadline - Date.now();
    if (left <= 0) return { ok: false, reason: `engine not healthy at ${healthUrl} within ${timeoutMs} ms` };
    if (await probe(healthUrl, Math.min(2_000, left))) {
      // A 200 from a process that is exiting right now is not a healthy engine.
      if (engine.running) return { ok: true, afterMs: Date.now() - started };
      continue;
    }
    await Promise.race([sleep(Math.min(interval, Math.max(0, deadline - Date.now()))), engine.exited]);
  }
}

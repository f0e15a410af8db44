import { setTimeout as sleep } from 'node:timers/promises';

/** Retries `connect` until it succeeds or `timeoutMs` passes: processes may start before Temporal is up. */
export async function connectWithRetry<T>(connect: () => Promise<T>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`could not connect to ${what} within ${timeoutMs / 1000}s: ${(err as Error).message}`);
      await sleep(Math.min(2000, 200 * attempt));
    }
  }
}

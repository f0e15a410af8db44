/**
 * `startAgent`: parse the engine command, start the engine under a Supervisor, serve the agent routes.
 * The agent listens at once; `ready` resolves when the first engine start is over (true: healthy).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EngineType } from '../models';
import { createAgentApp } from './app';
import type { EngineProcessOptions } from './engineProcess';
import { ENGINE_CONVENTIONS, parseEngineCommand } from './flags';
import { Supervisor } from './supervisor';

export const DEFAULT_AGENT_PORT = 9100;
export const DEFAULT_HEALTH_TIMEOUT_MS = 600_000;
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

export interface AgentOptions {
  engine: EngineType;
  /** The engine's command line, e.g. ["vllm", "serve", "MODEL", "--max-num-seqs", "256"]. */
  command: readonly string[];
  /** Agent bind address; default 127.0.0.1. Port 0 picks a free one. */
  host?: string;
  port: number;
  /** Where the engine is reached; default 127.0.0.1 and the command's `--port` (else the engine's default port). */
  engineHost?: string;
  enginePort?: number;
  /** Revision the launch command is reported as; default "initial". */
  revision?: string;
  /** Default AGENT_HEALTH_TIMEOUT_MS, else 600000. */
  healthTimeoutMs?: number;
  /** Default AGENT_STOP_TIMEOUT_MS, else 30000. */
  stopTimeoutMs?: number;
  /** Default AGENT_DRAIN_TIMEOUT_MS, else 30000: how long admitted requests get to finish before a restart. */
  drainTimeoutMs?: number;
  healthIntervalMs?: number;
  recoveryBackoffMs?: number;
  advertiseUrl?: string;
  process?: EngineProcessOptions;
  log?: (line: string) => void;
}

export interface RunningAgent {
  url: string;
  supervisor: Supervisor;
  engineUrl: string;
  ready: Promise<boolean>;
  close(): Promise<void>;
}

export function msFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer (milliseconds), got "${raw}"`);
  return n;
}

function clientHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const convention = ENGINE_CONVENTIONS[opts.engine];
  const parsed = parseEngineCommand(opts.engine, opts.command);
  if (parsed.fixed.length === 0) throw new Error('the engine command is empty');
  const launchPort = typeof parsed.launch.port === 'string' ? Number(parsed.launch.port) : undefined;
  const enginePort = opts.enginePort ?? (Number.isInteger(launchPort) ? launchPort! : convention.defaultPort);
  const engineUrl = `http://${clientHost(opts.engineHost ?? '127.0.0.1')}:${enginePort}`;
  const supervisor = new Supervisor({
    engine: opts.engine,
    fixed: parsed.fixed,
    launchArgs: parsed.args,
    initialRevision: opts.revision ?? 'initial',
    healthUrl: `${engineUrl}${convention.healthPath}`,
    healthTimeoutMs: opts.healthTimeoutMs ?? msFromEnv('AGENT_HEALTH_TIMEOUT_MS', DEFAULT_HEALTH_TIMEOUT_MS),
    stopTimeoutMs: opts.stopTimeoutMs ?? msFromEnv('AGENT_STOP_TIMEOUT_MS', DEFAULT_STOP_TIMEOUT_MS),
    drainTimeoutMs: opts.drainTimeoutMs ?? msFromEnv('AGENT_DRAIN_TIMEOUT_MS', DEFAULT_DRAIN_TIMEOUT_MS),
    healthIntervalMs: opts.healthIntervalMs,
    recoveryBackoffMs: opts.recoveryBackoffMs,
    process: opts.process,
    log: opts.log,
  });
  const app = createAgentApp({
    supervisor,
    engineUrl,
    healthPath: convention.healthPath,
    introspectionPath: convention.introspectionPath,
    advertiseUrl: opts.advertiseUrl,
  });
  const host = opts.host ?? '127.0.0.1';
  const server = http.createServer(app);
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  const ready = supervisor.start();
  let closed: Promise<void> | undefined;
  return {
    url: `http://${clientHost(host)}:${port}`,
    supervisor,
    engineUrl,
    ready,
    close: () =>
      (closed ??= (async () => {
        await supervisor.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })()),
  };
}

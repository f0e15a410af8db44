/**
 * A real Prometheus server (Debian's `prometheus` package) for tests: scrapes given replica
 * addresses every second with the label convention of activities/prometheusSource.ts (target
 * host:port, `__metrics_path__` = the replica's path + `/metrics`, `replica` = the replica address).
 * A missing binary is an error, not a skip: the tests that need it must not pass silently.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import axios from 'axios';
import { freePort } from '../../scripts/processes';

export const PROMETHEUS_INSTALL_HINT = 'apt-get update && apt-get install -y --no-install-recommends prometheus';

/** `PROMETHEUS_PATH`, else /usr/bin/prometheus; throws naming the install command when absent. */
export function prometheusBinary(): string {
  const bin = process.env.PROMETHEUS_PATH || '/usr/bin/prometheus';
  if (!existsSync(bin)) {
    throw new Error(`Prometheus binary not found at ${bin}. Install it with \`${PROMETHEUS_INSTALL_HINT}\` (Debian's package) or set PROMETHEUS_PATH.`);
  }
  return bin;
}

export interface ScrapeTarget {
  /** Replica address, e.g. http://127.0.0.1:8000/replicas/3. */
  address: string;
  /** Scrape job; default `servetune`. */
  job?: string;
}

/** One static_config per replica: target host:port, its metrics path and the `replica` label. */
export function scrapeConfig(targets: readonly ScrapeTarget[], scrapeIntervalSeconds = 1): object {
  const jobs = new Map<string, object[]>();
  for (const t of targets) {
    const url = new URL(t.address);
    const staticConfig = {
      targets: [url.host],
      labels: {
        __metrics_path__: `${url.pathname.replace(/\/+$/, '')}/metrics`,
        __scheme__: url.protocol.replace(':', ''),
        replica: t.address.replace(/\/+$/, ''),
      },
    };
    const job = t.job ?? 'servetune';
    jobs.set(job, [...(jobs.get(job) ?? []), staticConfig]);
  }
  return {
    global: { scrape_interval: `${scrapeIntervalSeconds}s`, scrape_timeout: `${scrapeIntervalSeconds}s`, evaluation_interval: '15s' },
    scrape_configs: [...jobs].map(([job_name, static_configs]) => ({ job_name, static_configs })),
  };
}

export interface RunningPrometheus {
  url: string;
  port: number;
  dir: string;
  scrapeIntervalSeconds: number;
  /** The server's recent log lines (for failure messages). */
  logs: string[];
  /**
   * Resolves once every target (or those of `replicas`) has been scraped successfully after
   * `sinceMs` (epoch ms, default now), plus one more scrape interval so that scrape is queryable.
   */
  waitForScrapes(opts?: { sinceMs?: number; replicas?: readonly string[]; timeoutMs?: number }): Promise<void>;
  /** Kills the process group and removes the temp dir. */
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  targets: readonly ScrapeTarget[];
  scrapeIntervalSeconds?: number;
  readyTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startPrometheus(opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  const bin = prometheusBinary();
  const interval = opts.scrapeIntervalSeconds ?? 1;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'servetune-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  // JSON is valid YAML, and it quotes every address and path safely.
  writeFileSync(configFile, JSON.stringify(scrapeConfig(opts.targets, interval), null, 2));

  const logs: string[] = [];
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      bin,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(line);
      if (logs.length > 200) logs.splice(0, logs.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitReady(child, url, opts.readyTimeoutMs ?? 30_000, logs);
      return makeRunning(child, url, port, dir, interval, logs, opts.targets.length);
    } catch (err) {
      lastError = err as Error;
      await killGroup(child);
      if (!logs.some((l) => /address already in use/i.test(l))) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error('Prometheus did not start');
}

async function waitReady(child: ChildProcess, url: string, timeoutMs: number, logs: string[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Prometheus exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${logs.slice(-20).join('\n')}`);
    }
    try {
      const res = await axios.get(`${url}/-/ready`, { timeout: 1000, validateStatus: () => true });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`Prometheus at ${url} not ready after ${timeoutMs} ms:\n${logs.slice(-20).join('\n')}`);
}

async function killGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function makeRunning(child: ChildProcess, url: string, port: number, dir: string, interval: number, logs: string[], targetCount: number): RunningPrometheus {
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    dir,
    scrapeIntervalSeconds: interval,
    logs,
    async waitForScrapes({ sinceMs = Date.now(), replicas, timeoutMs = 20_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      const wanted = replicas ? new Set(replicas.map((r) => r.replace(/\/+$/, ''))) : undefined;
      let last = '';
      while (Date.now() < deadline) {
        const res = await axios.get(`${url}/api/v1/targets`, { params: { state: 'active' }, timeout: 2000 });
        const all = res.data.data.activeTargets as Array<{ health: string; lastScrape: string; labels: Record<string, string>; lastError: string }>;
        const targets = wanted ? all.filter((t) => wanted.has(t.labels.replica)) : all;
        const pending = targets.filter((t) => t.health !== 'up' || Date.parse(t.lastScrape) <= sinceMs);
        if (targets.length >= (wanted?.size ?? targetCount) && pending.length === 0) {
          await sleep(interval * 1000);
          return;
        }
        last = pending.map((t) => `${t.labels.replica ?? t.labels.instance}: ${t.health} ${t.lastError}`).join('; ');
        await sleep(200);
      }
      throw new Error(`Prometheus targets not all scraped after ${new Date(sinceMs).toISOString()} within ${timeoutMs} ms: ${last}`);
    },
    stop: () =>
      (stopped ??= killGroup(child).then(() => {
        rmSync(dir, { recursive: true, force: true });
      })),
  };
}

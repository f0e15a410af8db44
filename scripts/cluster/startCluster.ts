/**
 * A Temporal cluster as production runs it, on one machine: PostgreSQL, both schemas, and the server as
 * one process or as four (frontend, history, matching, worker), then the namespace and servetune's search
 * attributes. Used by `npm run cluster` and by the production-shape suite (tests/cluster/).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { SEARCH_ATTRIBUTE_KEYS } from '../../contract';
import { waitForPort } from '../processes';
import { ensureTemporalBinaries } from '../temporalBinaries';
import { startPostgres, type Postgres } from './postgres';
import { ensureServerBinaries } from './serverBinaries';
import { clusterPorts, renderServerConfig, type ClusterPorts } from './serverConfig';

const run = promisify(execFile);

export const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface ClusterOptions {
  portBase: number;
  /** Four server processes instead of one, so one service can be killed or restarted on its own. */
  split: boolean;
  namespace?: string;
  /** The server's own log level (its log goes to <dir>/logs/). */
  logLevel?: string;
  log?: (line: string) => void;
}

export interface Cluster {
  address: string;
  namespace: string;
  ports: ClusterPorts;
  /** Temporary folder with the PostgreSQL data, the rendered config and the server logs; removed by stop(). */
  dir: string;
  split: boolean;
  /** SIGKILLs one service's process and starts it again (split mode only); resolves once it listens. */
  restartService(service: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

const SCHEMAS = [
  { db: 'temporal', name: 'postgresql/v12/temporal' },
  { db: 'temporal_visibility', name: 'postgresql/v12/visibility' },
];

/** Creates both databases and brings their schemas to the version the server binary embeds. */
function setUpSchemas(sqlTool: string, pg: Postgres): void {
  for (const { db, name } of SCHEMAS) {
    const base = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '--port', String(pg.port), '--user', pg.user, '--db', db];
    for (const command of [['create-database'], ['setup-schema', '-v', '0.0'], ['update-schema', '--schema-name', name]]) {
      execFileSync(sqlTool, [...base, ...command], { stdio: 'pipe' });
    }
  }
}

/** Retries `fn` until it succeeds or `timeoutMs` passes (the ring, the namespace cache warming up). */
async function retry<T>(what: string, fn: () => Promise<T>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await fn();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`${what}: ${(last as Error)?.message ?? last}`);
}

/** The namespace (one day of retention) and every servetune search attribute, as an operator would add them. */
async function registerNamespace(cli: string, address: string, namespace: string): Promise<void> {
  const op = (...args: string[]) => run(cli, ['operator', ...args, '--address', address], { encoding: 'utf8' });
  await retry(`create namespace ${namespace}`, async () => {
    try {
      await op('namespace', 'describe', '-n', namespace);
    } catch {
      await op('namespace', 'create', '-n', namespace, '--retention', '1d');
    }
  });
  await retry('register search attributes', async () => {
    const listed = (await op('search-attribute', 'list', '-n', namespace)).stdout;
    const missing = SEARCH_ATTRIBUTE_KEYS.map((k) => k.name).filter((name) => !new RegExp(`\\b${name}\\b`).test(listed));
    if (missing.length === 0) return;
    await op('search-attribute', 'create', '-n', namespace, ...missing.flatMap((name) => ['--name', name, '--type', 'Keyword']));
    throw new Error(`just added ${missing.join(', ')}; checking again`);
  });
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const log = opts.log ?? (() => undefined);
  const namespace = opts.namespace ?? 'default';
  const ports = clusterPorts(opts.portBase);
  const { server, sqlTool } = ensureServerBinaries(log);
  const { cli } = ensureTemporalBinaries(log);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'servetune-cluster-'));
  const logsDir = path.join(dir, 'logs');
  mkdirSync(logsDir);
  const pg = await startPostgres(path.join(dir, 'pg'), ports.postgres, log);
  const children = new Map<string, ChildProcess>();
  const stopAll = async () => {
    await Promise.all([...children.values()].map((child) => stopChild(child, 'SIGTERM')));
    children.clear();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    setUpSchemas(sqlTool, pg);
    const configFile = path.join(dir, 'temporal.yaml');
    writeFileSync(configFile, renderServerConfig(ports, { pgUser: pg.user, logLevel: opts.logLevel ?? 'warn' }));
    const groups: Array<{ key: string; services: readonly ServiceName[] }> = opts.split
      ? SERVICES.map((s) => ({ key: s, services: [s] }))
      : [{ key: 'all', services: SERVICES }];
    const startGroup = (key: string, services: readonly ServiceName[]) => {
      const out = createWriteStream(path.join(logsDir, `${key}.log`), { flags: 'a' });
      const args = ['--config-file', configFile, '--allow-no-auth', 'start', ...services.flatMap((s) => ['--service', s])];
      const child = spawn(server, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      // Two streams into one file: neither may end it, or the other writes after its end.
      child.stdout?.pipe(out, { end: false });
      child.stderr?.pipe(out, { end: false });
      child.once('close', () => out.end());
      children.set(key, child);
      return child;
    };
    for (const g of groups) startGroup(g.key, g.services);
    await waitForPort('127.0.0.1', ports.frontend, 120_000, 'Temporal frontend').catch((err: Error) => {
      throw new Error(`${err.message}; server log: ${tail(logsDir, groups[0].key)}`);
    });
    const address = `127.0.0.1:${ports.frontend}`;
    await retry('cluster health', () => run(cli, ['operator', 'cluster', 'health', '--address', address]));
    await registerNamespace(cli, address, namespace);
    log(`Temporal ${opts.split ? 'services frontend, history, matching, worker (four processes)' : 'server (one process)'} on ${address}, namespace ${namespace}, logs in ${logsDir}`);
    const servicePort: Record<ServiceName, number> = { frontend: ports.frontend, history: ports.history, matching: ports.matching, worker: ports.worker };
    return {
      address,
      namespace,
      ports,
      dir,
      split: opts.split,
      async restartService(service) {
        const child = children.get(service);
        if (!opts.split || !child) throw new Error(`restartService(${service}) needs the cluster started with split: true`);
        await stopChild(child, 'SIGKILL');
        startGroup(service, [service]);
        await waitForPort('127.0.0.1', servicePort[service], 120_000, `Temporal ${service}`);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function tail(logsDir: string, key: string): string {
  try {
    return readFileSync(path.join(logsDir, `${key}.log`), 'utf8').slice(-3000);
  } catch {
    return '(none)';
  }
}

/** Signals the child's process group and waits for it to exit (SIGKILL after 20 s). */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const send = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      // already gone
    }
  };
  send(signal);
  const timer = setTimeout(() => send('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

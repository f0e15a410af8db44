import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROJECT_ROOT } from './temporalBinaries';

export const TSX = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');

/**
 * Node/V8 flags of each long-running process, as `npm start` and the benchmarks run them (the Dockerfile
 * and docker-compose.yml repeat them). The figures behind them are in BENCHMARKS.md.
 */
export const NODE_FLAGS: Readonly<Record<'worker' | 'api' | 'sim', readonly string[]>> = {
  // A young generation of 1 MiB and an old generation that grows by half instead of doubling: the
  // workflow thread collects the garbage of each activation early instead of holding it as RSS.
  worker: ['--max-semi-space-size=1', '--heap-growing-percent=50'],
  api: [],
  sim: [],
};

/**
 * Environment of each long-running process, beside NODE_FLAGS (the Dockerfile and docker-compose.yml
 * repeat it). glibc gives each thread that allocates its own malloc arena, and raises its mmap and trim
 * thresholds as large blocks come and go; the worker's Rust core and V8 threads otherwise keep many
 * half-empty arenas, and freed memory never goes back to the system. Two arenas and thresholds fixed at
 * 128 KiB keep it returning (BENCHMARKS.md).
 */
export const PROCESS_ENV: Readonly<Record<'worker' | 'api' | 'sim', Readonly<Record<string, string>>>> = {
  worker: { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' },
  api: {},
  sim: {},
};

/** Spawns a child whose output lines are prefixed with its name, so one terminal shows them all. */
export function spawnNamed(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(command, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[${name}]`.padEnd(11);
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${prefix} ${line}\n`);
    });
  }
  return child;
}

/** A port free on loopback right now (the OS picks it); tests and benchmarks start servers on it. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * A free port below Linux's ephemeral range (32768+), for a process that is stopped and started again on
 * the same port (a restarted simulator, an engine restarted by its agent): while it is down, a port from
 * the ephemeral range can be taken by any process that listens on port 0 or opens a connection, and the
 * restart then fails with EADDRINUSE, or a health probe reaches that other server instead.
 */
export async function freePortOutsideEphemeralRange(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 20000-29999');
}

export async function waitForPort(host: string, port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await sleep(200);
  }
  throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs / 1000}s`);
}

export function splitHostPort(address: string, defaultPort: number): { host: string; port: number } {
  const [host, port] = address.replace(/^https?:\/\//, '').split(':');
  return { host: host || '127.0.0.1', port: port ? Number(port) : defaultPort };
}

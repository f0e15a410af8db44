/**
 * A private PostgreSQL cluster for the Temporal server: its own data folder and port, trust auth on
 * loopback only, stopped with the script. Debian's PostgreSQL 15 binaries (`postgresql-15`), or the
 * folder in SERVETUNE_PG_BIN_DIR. PostgreSQL refuses to run as root, so under root it runs as the
 * `postgres` system user the package creates.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

export interface Postgres {
  port: number;
  /** The superuser Temporal connects as (trust auth, no password). */
  user: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<major>/bin with initdb, unless SERVETUNE_PG_BIN_DIR names one. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SERVETUNE_PG_BIN_DIR) return env.SERVETUNE_PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((d) => existsSync(path.join(root, d, 'bin', 'initdb'))) : [];
  const newest = majors.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL not found under /usr/lib/postgresql: `apt-get install postgresql-15`, or set SERVETUNE_PG_BIN_DIR to the folder holding initdb and postgres');
  return path.join(root, newest, 'bin');
}

/** Under root, the command runs as the `postgres` user (setpriv execs in place, so signals reach postgres itself). */
function asPostgresUser(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]];
}

function postgresIds(): { uid: number; gid: number } {
  return { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
}

/** initdb into `dataDir` (when empty), then postgres on 127.0.0.1:`port` with its socket in `dataDir`. */
export async function startPostgres(dataDir: string, port: number, log: (line: string) => void): Promise<Postgres> {
  const bin = postgresBinDir();
  mkdirSync(dataDir, { recursive: true });
  if (process.getuid?.() === 0) {
    const { uid, gid } = postgresIds();
    chownSync(dataDir, uid, gid);
    // mkdtemp makes folders 0700: the postgres user must be able to pass through the one holding its data.
    chmodSync(path.dirname(dataDir), 0o711);
  }
  const user = 'postgres';
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const [cmd, args] = asPostgresUser(path.join(bin, 'initdb'), ['-D', dataDir, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-sync']);
    try {
      execFileSync(cmd, args, { stdio: 'pipe' });
    } catch (err) {
      throw new Error(`initdb failed: ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}`);
    }
  }
  const [cmd, args] = asPostgresUser(path.join(bin, 'postgres'), [
    '-D', dataDir, '-p', String(port), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1',
    // A throwaway cluster: durability traded for speed, and room for four Temporal services' pools.
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300',
  ]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  await waitForReady(bin, port, child, () => stderr);
  log(`PostgreSQL on 127.0.0.1:${port}, data in ${dataDir}`);
  return {
    port,
    user,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT'); // "fast" shutdown: rolls back open transactions, then exits
      await exited;
    },
  };
}

async function waitForReady(bin: string, port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}: ${stderr()}`);
    try {
      execFileSync(path.join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q'], { stdio: 'ignore' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`postgres did not accept connections on 127.0.0.1:${port} within 60 s: ${stderr()}`);
}

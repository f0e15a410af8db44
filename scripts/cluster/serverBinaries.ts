/**
 * The Temporal server and its SQL schema tool, built from the Go module proxy at one pinned version.
 *
 * Temporal publishes the server as a Go module and as container images, not on a package registry, so
 * `go install` is the only registry route (no Docker needed). A cold build takes about 10 minutes on two
 * cores, so the binaries are cached by version outside the repository, in a folder a fresh clone on the
 * same machine reuses, and linked into the git-ignored `.tools/`. Resolution order: the env vars, the
 * cache, then `go install` into the cache.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TOOLS_DIR } from '../temporalBinaries';

/** The server version compose pins too (docker-compose.yml); older Go toolchains build this one (Go 1.26.8). */
export const TEMPORAL_SERVER_VERSION = '1.31.2';

export interface ServerBinaries {
  server: string;
  sqlTool: string;
}

/** `${XDG_CACHE_HOME:-~/.cache}/servetune/temporal-server/v<version>/bin`, or SERVETUNE_TEMPORAL_CACHE_DIR/v<version>/bin. */
export function serverCacheDir(version = TEMPORAL_SERVER_VERSION, env: NodeJS.ProcessEnv = process.env): string {
  const root = env.SERVETUNE_TEMPORAL_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'servetune', 'temporal-server');
  return path.join(root, `v${version}`, 'bin');
}

/** The Go packages and the names their binaries get (go install names them after the package folder). */
const PACKAGES = [
  { key: 'server', pkg: 'go.temporal.io/server/cmd/server', built: 'server', fileName: 'temporal-server', envVar: 'SERVETUNE_TEMPORAL_SERVER_BIN' },
  { key: 'sqlTool', pkg: 'go.temporal.io/server/cmd/tools/sql', built: 'sql', fileName: 'temporal-sql-tool', envVar: 'SERVETUNE_TEMPORAL_SQL_TOOL_BIN' },
] as const;

function runs(binary: string): boolean {
  return existsSync(binary) && spawnSync(binary, ['--help'], { stdio: 'ignore', timeout: 120_000 }).status === 0;
}

function goInstall(pkg: string, version: string, binDir: string, log: (line: string) => void): void {
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0) throw new Error(`the Temporal server is not built yet and Go is not on PATH: install Go >= 1.26.8, or set ${PACKAGES.map((p) => p.envVar).join(' and ')}`);
  log(`go install ${pkg}@v${version} into ${binDir} (${go.stdout.trim()}; about 10 minutes cold on 2 cores)`);
  // Into a scratch folder first: an interrupted build never leaves a half-written binary in the cache.
  const scratch = `${binDir}.partial`;
  mkdirSync(scratch, { recursive: true });
  execFileSync('go', ['install', `${pkg}@v${version}`], { env: { ...process.env, GOBIN: scratch, GOFLAGS: '' }, stdio: 'inherit' });
}

/** Resolves (building once if needed) the server and the schema tool of `version`, linked under `.tools/`. */
export function ensureServerBinaries(log: (line: string) => void = () => undefined, version = TEMPORAL_SERVER_VERSION): ServerBinaries {
  const binDir = serverCacheDir(version);
  const linkDir = path.join(TOOLS_DIR, 'temporal-server', `v${version}`);
  const found: Partial<Record<'server' | 'sqlTool', string>> = {};
  for (const spec of PACKAGES) {
    const fromEnv = process.env[spec.envVar];
    if (fromEnv) {
      if (!runs(fromEnv)) throw new Error(`${spec.envVar}=${fromEnv} is not a working ${spec.fileName} binary; unset it or point it at one`);
      found[spec.key] = fromEnv;
      continue;
    }
    const cached = path.join(binDir, spec.fileName);
    if (!existsSync(cached)) {
      goInstall(spec.pkg, version, binDir, log);
      mkdirSync(binDir, { recursive: true });
      renameSync(path.join(`${binDir}.partial`, spec.built), cached);
      rmSync(`${binDir}.partial`, { recursive: true, force: true });
    }
    if (!runs(cached)) throw new Error(`${cached} does not run; delete it to rebuild`);
    mkdirSync(linkDir, { recursive: true });
    const link = path.join(linkDir, spec.fileName);
    rmSync(link, { force: true });
    symlinkSync(cached, link);
    found[spec.key] = link;
  }
  return { server: found.server!, sqlTool: found.sqlTool! };
}

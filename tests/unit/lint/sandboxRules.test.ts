import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** A piece of code linted as if it were the named file of the project. */
interface LintCase {
  file: string;
  code: string;
}

const root = path.resolve(__dirname, '../../..');

/**
 * ESLint's config is an ES module, which jest's CommonJS runtime cannot load: run the real ESLint in
 * a child process. One process lints every case with one ESLint instance, so the type-aware parser
 * builds the project's program once instead of once per case. Each case is linted under an existing
 * file's name (so the type-aware rules find it in the project) with our text: `lintText` hands the
 * text to the TypeScript project service, which replaces that file's content for the case; nothing
 * is written to disk.
 */
const LINT_ALL = `
import { ESLint } from 'eslint';
let input = '';
for await (const chunk of process.stdin) input += chunk;
const eslint = new ESLint({ cwd: process.cwd() });
const results = [];
for (const { file, code } of JSON.parse(input)) {
  const [result] = await eslint.lintText(code, { filePath: file });
  results.push(result.messages.map((m) => m.ruleId));
}
process.stdout.write(JSON.stringify(results));
`;

function lintAll(cases: LintCase[]): (string | null)[][] {
  const run = spawnSync(process.execPath, ['--input-type=module', '--eval', LINT_ALL], {
    cwd: root,
    input: JSON.stringify(cases),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`eslint failed (${run.status}): ${run.stderr}`);
  const results = JSON.parse(run.stdout) as (string | null)[][];
  if (results.length !== cases.length) throw new Error(`eslint answered ${results.length} of ${cases.length} cases`);
  return results;
}

/**
 * The lint rules that guard the workflow sandbox, checked on code that breaks them: if the config
 * stopped applying them to workflows/ (or core/), these would pass silently in `npm run lint`.
 */
describe('lint guards the workflow sandbox', () => {
  const cases: LintCase[] = [];
  let results: (string | null)[][] | undefined;
  /** Registers a case while the tests are collected; its rule ids once `beforeAll` has linted them all. */
  const lintAs = (file: string, code: string): (() => (string | null)[]) => {
    const index = cases.push({ file, code }) - 1;
    return () => {
      if (!results) throw new Error('the cases were not linted');
      return results[index];
    };
  };

  const workflowAxios = lintAs('workflows/rollout.ts', "import axios from 'axios';\nexport const a = axios;\n");
  const workflowZod = lintAs('workflows/rollout.ts', "import { z } from 'zod';\nexport const s = z.string();\n");
  const workflowTypeImport = lintAs('workflows/rollout.ts', "import type { AxiosInstance } from 'axios';\nexport type A = AxiosInstance;\n");
  const workflowSandboxImports = lintAs(
    'workflows/rollout.ts',
    "import { sleep } from '@temporalio/workflow';\nimport { healthGate } from '../core/healthGate';\nexport const f = [sleep, healthGate];\n",
  );
  const coreNodeImport = lintAs('core/healthGate.ts', "import fs from 'node:fs';\nexport const f = fs;\n");
  const contractAxios = lintAs('contract/index.ts', "import axios from 'axios';\nexport const a = axios;\n");
  const contractAllowedImports = lintAs(
    'contract/index.ts',
    "import { defineSearchAttributeKey } from '@temporalio/common';\nimport { canonicalDeploymentKey } from '../core/targetAddress';\nexport const f = [defineSearchAttributeKey, canonicalDeploymentKey];\n",
  );
  const workflowContractImport = lintAs('workflows/rollout.ts', "import { NON_RETRYABLE_TYPES } from '../contract';\nexport const t = NON_RETRYABLE_TYPES;\n");
  const workflowModuleLet = lintAs('workflows/rollout.ts', 'let runs = 0;\nexport function count(): number {\n  return ++runs;\n}\n');
  const coreModuleVar = lintAs('core/healthGate.ts', 'export var last = 0;\n');
  const contractModuleMap = lintAs('contract/index.ts', 'const seen = new Map<string, number>();\nexport const f = seen;\n');
  const workflowLocalState = lintAs(
    'workflows/rollout.ts',
    'export function f(): number {\n  let n = 0;\n  const m = new Map<string, number>();\n  m.set("a", 1);\n  n += m.size;\n  return n;\n}\nexport const LIMIT = 3;\n',
  );
  const workflowFloatingPromise = lintAs(
    'workflows/rollout.ts',
    "import { sleep } from '@temporalio/workflow';\nexport async function w(): Promise<void> {\n  sleep(1);\n}\n",
  );

  beforeAll(() => {
    results = lintAll(cases);
  }, 120_000);

  it('refuses a value import from outside the sandbox in workflows/, allows it as a type import', () => {
    expect(workflowAxios()).toContain('@typescript-eslint/no-restricted-imports');
    expect(workflowZod()).toContain('@typescript-eslint/no-restricted-imports');
    expect(workflowTypeImport()).toEqual([]);
    expect(workflowSandboxImports()).toEqual([]);
  });

  it('keeps core/ pure: no value imports from outside core/', () => {
    expect(coreNodeImport()).toContain('@typescript-eslint/no-restricted-imports');
  });

  it('keeps contract/ sandbox-safe, and lets workflows/ import it', () => {
    expect(contractAxios()).toContain('@typescript-eslint/no-restricted-imports');
    expect(contractAllowedImports()).toEqual([]);
    expect(workflowContractImport()).toEqual([]);
  });

  it('refuses module-level state in the modules every cached workflow shares', () => {
    expect(workflowModuleLet()).toContain('no-restricted-syntax');
    expect(coreModuleVar()).toContain('no-restricted-syntax');
    expect(contractModuleMap()).toContain('no-restricted-syntax');
    expect(workflowLocalState()).toEqual([]);
  });

  it('refuses a floating promise', () => {
    expect(workflowFloatingPromise()).toContain('@typescript-eslint/no-floating-promises');
  });
});

import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * The lint rules that guard the workflow sandbox, checked on code that breaks them: if the config
 * stopped applying them to workflows/ (or core/), these would pass silently in `npm run lint`.
 */
describe('lint guards the workflow sandbox', () => {
  const root = path.resolve(__dirname, '../../..');
  // ESLint's config is an ES module, which jest's CommonJS runtime cannot load: run the real CLI.
  // An existing file's name, so the type-aware rules find it in the project; the text is ours.
  const lintAs = async (file: string, code: string): Promise<(string | null)[]> => {
    const run = spawnSync(process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), '--stdin', '--stdin-filename', file, '--format', 'json'], {
      cwd: root,
      input: code,
      encoding: 'utf8',
    });
    if (run.status !== 0 && run.status !== 1) throw new Error(`eslint failed: ${run.stderr}`);
    const [result] = JSON.parse(run.stdout) as { messages: { ruleId: string | null }[] }[];
    return result.messages.map((m) => m.ruleId);
  };

  it('refuses a value import from outside the sandbox in workflows/, allows it as a type import', async () => {
    expect(await lintAs('workflows/rollout.ts', "import axios from 'axios';\nexport const a = axios;\n")).toContain('@typescript-eslint/no-restricted-imports');
    expect(await lintAs('workflows/rollout.ts', "import { z } from 'zod';\nexport const s = z.string();\n")).toContain('@typescript-eslint/no-restricted-imports');
    expect(await lintAs('workflows/rollout.ts', "import type { AxiosInstance } from 'axios';\nexport type A = AxiosInstance;\n")).toEqual([]);
    expect(await lintAs('workflows/rollout.ts', "import { sleep } from '@temporalio/workflow';\nimport { healthGate } from '../core/healthGate';\nexport const f = [sleep, healthGate];\n")).toEqual([]);
  }, 60_000);

  it('keeps core/ pure: no value imports from outside core/', async () => {
    expect(await lintAs('core/healthGate.ts', "import fs from 'node:fs';\nexport const f = fs;\n")).toContain('@typescript-eslint/no-restricted-imports');
  }, 60_000);

  it('keeps contract/ sandbox-safe, and lets workflows/ import it', async () => {
    expect(await lintAs('contract/index.ts', "import axios from 'axios';\nexport const a = axios;\n")).toContain('@typescript-eslint/no-restricted-imports');
    expect(await lintAs('contract/index.ts', "import { defineSearchAttributeKey } from '@temporalio/common';\nimport { canonicalDeploymentKey } from '../core/targetAddress';\nexport const f = [defineSearchAttributeKey, canonicalDeploymentKey];\n")).toEqual([]);
    expect(await lintAs('workflows/rollout.ts', "import { NON_RETRYABLE_TYPES } from '../contract';\nexport const t = NON_RETRYABLE_TYPES;\n")).toEqual([]);
  }, 60_000);

  it('refuses module-level state in the modules every cached workflow shares', async () => {
    expect(await lintAs('workflows/rollout.ts', 'let runs = 0;\nexport function count(): number {\n  return ++runs;\n}\n')).toContain('no-restricted-syntax');
    expect(await lintAs('core/healthGate.ts', 'export var last = 0;\n')).toContain('no-restricted-syntax');
    expect(await lintAs('contract/index.ts', 'const seen = new Map<string, number>();\nexport const f = seen;\n')).toContain('no-restricted-syntax');
    expect(await lintAs('workflows/rollout.ts', 'export function f(): number {\n  let n = 0;\n  const m = new Map<string, number>();\n  m.set("a", 1);\n  n += m.size;\n  return n;\n}\nexport const LIMIT = 3;\n')).toEqual([]);
  }, 60_000);

  it('refuses a floating promise', async () => {
    const code = "import { sleep } from '@temporalio/workflow';\nexport async function w(): Promise<void> {\n  sleep(1);\n}\n";
    expect(await lintAs('workflows/rollout.ts', code)).toContain('@typescript-eslint/no-floating-promises');
  }, 60_000);
});

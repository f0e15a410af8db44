// Lint guards what the compiler cannot: promises nobody awaits (in a workflow, a floating promise is
// a step that silently never runs or runs out of order) and the workflow sandbox's import boundary.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What workflow code may import as values: the SDK's sandbox-safe packages, its own folder, core/, contract/. */
const WORKFLOW_VALUE_IMPORTS = {
  regex: '^(?!@temporalio/(workflow|common)$|\\./|\\.\\./core/|\\.\\./contract$).*',
  allowTypeImports: true,
  message:
    'workflows/ runs in the Temporal sandbox: import values only from @temporalio/workflow, @temporalio/common, workflows/, core/ and contract/ (anything else as `import type`).',
};

/**
 * The workflow bundle's modules (workflows/, core/, contract/) are evaluated once per worker thread and
 * shared by every cached workflow (PRELOADED_WORKFLOW_MODULES in worker/createWorker.ts): state kept at
 * module level would leak from one rollout into another, and differ on replay.
 */
const SHARED_MODULE_STATE = [
  {
    selector: ':matches(Program, Program > ExportNamedDeclaration) > VariableDeclaration[kind!="const"]',
    message: 'workflows/, core/ and contract/ are shared by every cached workflow: no module-level let or var (keep state in the workflow run).',
  },
  {
    // A WeakMap or WeakSet is allowed: keyed by a run's own objects, it holds nothing of another run.
    selector: ':matches(Program, Program > ExportNamedDeclaration) > VariableDeclaration > VariableDeclarator > NewExpression[callee.name=/^(Map|Set|Array)$/]',
    message: 'workflows/, core/ and contract/ are shared by every cached workflow: no module-level collection (keep state in the workflow run).',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.tools/**', '.data/**', 'bin/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // ANSI colour codes in the CLI and its tests are control characters on purpose.
      'no-control-regex': 'off',
      // Activity errors deliberately keep a short message and drop the remote cause: a replica's body
      // must not travel into the rollout's state (see docs on targets).
      'preserve-caught-error': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [WORKFLOW_VALUE_IMPORTS] }] },
  },
  {
    // core/ is imported by workflow code, so it must stay as sandbox-safe as the workflow itself.
    files: ['core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!\\./|\\.\\./core/).*', allowTypeImports: true, message: 'core/ is pure and sandbox-safe: value imports only from core/ (types from anywhere).' }] },
      ],
    },
  },
  {
    // contract/ is imported by workflow code too: the SDK's sandbox-safe common package and core/ only.
    files: ['contract/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!@temporalio/common$|\\./|\\.\\./core/).*', allowTypeImports: true, message: 'contract/ is sandbox-safe: value imports only from @temporalio/common and core/ (types from anywhere).' }] },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts', 'core/**/*.ts', 'contract/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...SHARED_MODULE_STATE] },
  },
  {
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  // Workflow tests boot Temporal servers; let slower machines finish their first run.
  transform: {
    // tsconfig's isolatedModules makes ts-jest transpile per file; type-checking is `npm run typecheck`'s job.
    '^.+\\.ts$': ['ts-jest', {}],
  },
  // Temporal's native runtime keeps a handle open after the last test; without this jest waits forever.
  forceExit: true,
  globalSetup: '<rootDir>/tests/helpers/globalSetup.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
  collectCoverageFrom: [
    'models/**/*.ts',
    'runtime/**/*.ts',
    'core/**/*.ts',
    'metrics/**/*.ts',
    'activities/**/*.ts',
    'api/**/*.ts',
    'simulator/**/*.ts',
    'workflows/**/*.ts',
    'worker/**/*.ts',
    '!**/main.ts',
    '!**/index.ts',
  ],
  coverageReporters: ['text-summary', 'text', 'lcov'],
};

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // isolatedModules: type-checking is `npm run typecheck`'s job; here it would only slow every run.
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true }],
  },
  // Temporal's native runtime keeps a handle open after the last test; without this jest waits forever.
  forceExit: true,
  testTimeout: 60_000,
  maxWorkers: 2,
  collectCoverageFrom: [
    'models/**/*.ts',
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

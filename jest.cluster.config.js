/**
 * `npm run test:cluster`: the production-shape suite (tests/cluster/). Its test file starts a Temporal
 * cluster on PostgreSQL (scripts/cluster/, the server built once and cached by version:
 * docs/production.md), then workers and gateways as processes. One file, run in band.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests/cluster'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  forceExit: true,
  // The Temporal CLI (for the namespace and search attributes), the workflow bundle, and the server build.
  globalSetup: '<rootDir>/tests/cluster/globalSetup.ts',
  setupFiles: ['<rootDir>/tests/helpers/quietLogs.ts'],
  testTimeout: 10 * 60_000,
  maxWorkers: 1,
};

/**
 * `npm run test:vllm`: the real-engine suite (tests/vllm/), apart from `npm test` because it needs
 * the CPU vLLM (`npm run tools -- --vllm`) and minutes per engine start. One file, run in band:
 * its engines are started once and shared by its ordered describe blocks.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests/vllm'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  forceExit: true,
  globalSetup: '<rootDir>/tests/vllm/globalSetup.ts',
  setupFiles: ['<rootDir>/tests/helpers/quietLogs.ts'],
  // An engine start takes 60–75 s on a quiet 2-core machine and up to 5 minutes on a loaded one.
  testTimeout: 15 * 60_000,
  maxWorkers: 1,
};

import { currentVersionStep } from '../../../core/currentVersion';

test.each([
  ['INACTIVE', 'set_current'],
  ['UNSPECIFIED', 'set_current'],
  ['RAMPING', 'set_current'],
  ['CURRENT', 'already_current'],
  ['DRAINING', 'replaced'],
  ['DRAINED', 'replaced'],
] as const)('a starting worker whose build is %s: %s', (status, step) => {
  expect(currentVersionStep(status)).toBe(step);
});

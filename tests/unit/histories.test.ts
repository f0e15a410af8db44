/** The replay corpus's layout rules (tests/helpers/histories.ts): where recordings go, and that they never overwrite. */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { version as packageVersion } from '../../package.json';
import { HISTORIES_DIR, historyPathToRecord, recordedHistories, VERSION_FOLDER } from '../helpers/histories';

test("a recording goes into its version's folder, made if missing", () => {
  const version = '999.0.0-layout-test';
  const dir = path.join(HISTORIES_DIR, version);
  try {
    expect(historyPathToRecord('new-scenario', version)).toBe(path.join(dir, 'new-scenario.json'));
    expect(existsSync(dir)).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Without a version: package.json's.
  expect(historyPathToRecord('no-such-scenario')).toBe(path.join(HISTORIES_DIR, packageVersion, 'no-such-scenario.json'));
});

test("a released build's history is never re-recorded", () => {
  expect(() => historyPathToRecord('happy-path', '0.1.0')).toThrow(/tests\/histories\/0\.1\.0\/happy-path\.json exists: recorded histories are never re-recorded; bump "version" in package.json/);
});

test('every recorded history sits in a version folder', () => {
  const all = recordedHistories();
  expect(all.length).toBeGreaterThan(0);
  for (const h of all) {
    expect(h.version).toMatch(VERSION_FOLDER);
    expect(h.file).toBe(path.join(HISTORIES_DIR, h.version, `${h.name}.json`));
  }
});

test.each([
  ['0.1.0', true],
  ['1.12.3', true],
  ['2.0.0-rc.1', true],
  ['latest', false],
  ['0.1', false],
])('version folder name %s valid: %s', (name, valid) => {
  expect(VERSION_FOLDER.test(name)).toBe(valid);
});

/**
 * The replay corpus: tests/histories/<version>/<scenario>.json, one folder per released package version,
 * each holding histories recorded by that release's code. Every folder is replayed against today's code
 * forever (tests/integration/replay.test.ts); a folder is never edited once its release is out.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { version as packageVersion } from '../../package.json';

export const HISTORIES_DIR = path.join(__dirname, '..', 'histories');

/** A release's folder name: the package version it was recorded with (semver, optional pre-release). */
export const VERSION_FOLDER = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

export interface RecordedHistory {
  version: string;
  name: string;
  file: string;
}

/** Every recorded history, oldest release first. */
export function recordedHistories(): RecordedHistory[] {
  const versions = readdirSync(HISTORIES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return versions.flatMap((version) =>
    readdirSync(path.join(HISTORIES_DIR, version))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => ({ version, name: path.basename(f, '.json'), file: path.join(HISTORIES_DIR, version, f) })),
  );
}

/**
 * Where `npm run record-histories` writes `name`: the current package version's folder. Refuses to
 * overwrite: a history already recorded for this version belongs to a release (bump the version in
 * package.json to record the next one).
 */
export function historyPathToRecord(name: string, version: string = packageVersion): string {
  const dir = path.join(HISTORIES_DIR, version);
  const file = path.join(dir, `${name}.json`);
  if (existsSync(file)) {
    throw new Error(`${path.relative(process.cwd(), file)} exists: recorded histories are never re-recorded; bump "version" in package.json to record a new release's histories`);
  }
  mkdirSync(dir, { recursive: true });
  return file;
}

/** With RECORD_HISTORIES=1 (`npm run record-histories`), keeps a workflow's (latest run's) history for this release. */
export async function recordHistoryIfAsked(client: Client, name: string, workflowId: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  writeFileSync(historyPathToRecord(name), historyToJSON(await client.workflow.getHandle(workflowId).fetchHistory()));
}

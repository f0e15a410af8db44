import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from './temporalBinaries';
import { SEARCH_ATTRIBUTE_KEYS } from '../contract';

/** History lives in a file under the git-ignored .data/, so a restart keeps past rollouts. */
export const DEV_SERVER_DB = path.join(PROJECT_ROOT, '.data', 'temporal.db');

export interface DevServerSettings {
  ip: string;
  port: number;
  uiPort: number;
  namespace: string;
  dbFile: string;
}

/**
 * Worker Deployment Versioning needs no flag on this dev server (CLI 1.9.1, server 1.32). These only make
 * `temporal worker deployment describe-version` report a replaced build as drained within seconds of its
 * last pinned rollout closing, instead of the server's default 3 + 3 minutes (docs/upgrading.md).
 */
export const VERSION_DRAINAGE_DYNAMIC_CONFIG = [
  '--dynamic-config-value', 'matching.wv.VersionDrainageStatusVisibilityGracePeriod="5s"',
  '--dynamic-config-value', 'matching.wv.VersionDrainageStatusRefreshInterval="2s"',
];

/** `temporal server start-dev` arguments, including the custom search attributes the workflow writes. */
export function devServerArgs(s: DevServerSettings): string[] {
  const attributes = SEARCH_ATTRIBUTE_KEYS.flatMap((k) => ['--search-attribute', `${k.name}=Keyword`]);
  return [
    'server', 'start-dev',
    '--ip', s.ip,
    '--port', String(s.port),
    '--ui-port', String(s.uiPort),
    '--namespace', s.namespace,
    '--db-filename', s.dbFile,
    '--log-level', 'warn',
    ...attributes,
    ...VERSION_DRAINAGE_DYNAMIC_CONFIG,
  ];
}

/**
 * start-dev registers `--search-attribute` only when it creates the namespace: a history file from an
 * older build lacks attributes added since. Adds the missing ones; answers their names.
 */
export function addMissingSearchAttributes(cli: string, address: string, namespace: string): string[] {
  const listed = execFileSync(cli, ['operator', 'search-attribute', 'list', '--address', address, '-n', namespace], { encoding: 'utf8' });
  const missing = SEARCH_ATTRIBUTE_KEYS.map((k) => k.name).filter((name) => !new RegExp(`\\b${name}\\b`).test(listed));
  for (const name of missing) {
    execFileSync(cli, ['operator', 'search-attribute', 'create', '--address', address, '-n', namespace, '--name', name, '--type', 'Keyword']);
  }
  return missing;
}

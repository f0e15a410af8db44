/** `npm run temporal`: the Temporal dev server alone (frontend, Web UI, SQLite history under .data/). */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { intFromEnv } from '../runtime/settings';
import { addMissingSearchAttributes, DEV_SERVER_DB, devServerArgs } from './devServer';
import { spawnNamed, waitForPort } from './processes';
import { ensureTemporalBinaries } from './temporalBinaries';

const { cli } = ensureTemporalBinaries((line) => console.log(`[tools] ${line}`));
const dbFile = process.env.TEMPORAL_DB_FILE || DEV_SERVER_DB;
mkdirSync(path.dirname(dbFile), { recursive: true });
const settings = {
  ip: process.env.TEMPORAL_IP || '127.0.0.1',
  port: intFromEnv(process.env.TEMPORAL_PORT, 7233),
  uiPort: intFromEnv(process.env.TEMPORAL_UI_PORT, 8233),
  namespace: process.env.TEMPORAL_NAMESPACE || 'default',
  dbFile,
};
console.log(`Temporal dev server on ${settings.ip}:${settings.port}, Web UI http://${settings.ip}:${settings.uiPort}, history in ${dbFile}`);
const child = spawnNamed('temporal', cli, devServerArgs(settings));
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill('SIGTERM'));
child.on('exit', (code) => process.exit(code ?? 0));

// A history file from an older build may lack search attributes added since.
waitForPort(settings.ip, settings.port, 60_000, 'Temporal')
  .then(() => {
    for (const name of addMissingSearchAttributes(cli, `${settings.ip}:${settings.port}`, settings.namespace)) console.log(`[temporal] added search attribute ${name}`);
  })
  .catch((err) => console.error(`[temporal] could not check search attributes: ${(err as Error).message}`));

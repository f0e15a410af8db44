import { ensureServerBinaries } from '../../scripts/cluster/serverBinaries';
import standardSetup from '../helpers/globalSetup';
import { usesDevServer } from './server';

/**
 * `npm test`'s setup (the Temporal CLI, the workflow bundle), then the cluster's server binaries: a cold
 * build takes ~10 minutes, here where no test timeout applies, not in the test file's beforeAll.
 */
export default async function globalSetup(): Promise<void> {
  await standardSetup();
  if (!usesDevServer()) ensureServerBinaries((line) => console.log(`[cluster] ${line}`));
}

/** `npm run tools`: install (if needed) and print the Temporal binaries every other script uses. */
import { ensureTemporalBinaries } from './temporalBinaries';

try {
  const { cli, testServer } = ensureTemporalBinaries((line) => console.log(`[tools] ${line}`));
  console.log(`[tools] temporal CLI: ${cli}`);
  console.log(`[tools] temporal test server: ${testServer}`);
} catch (err) {
  console.error(`[tools] ${(err as Error).message}`);
  process.exit(1);
}

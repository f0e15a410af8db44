/**
 * Pre-builds the worker's workflow bundle into a file the worker loads through `WORKFLOW_BUNDLE_PATH`:
 * webpack, through the SDK's `bundleWorkflowCode`, with the worker's WORKFLOW_BUNDLE_OPTIONS (the rollout
 * metrics interceptor; no sources' text in the source map). A worker given a bundle starts in about a
 * second and never loads webpack: bundling at start-up leaves webpack and its caches in the worker's heap
 * for the life of the process (~70 MiB of RSS).
 *
 *   node dist/scripts/bundleWorkflows.js [out]     (after `npm run build`; out defaults to dist/workflow-bundle.js)
 *   npx tsx scripts/bundleWorkflows.ts [out]
 *
 * Run from dist/, it bundles the compiled workflows (dist/workflows/); from source, workflows/*.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE_OPTIONS } from '../worker/createWorker';
import { PROJECT_ROOT } from './temporalBinaries';

/** Where `npm start` and the Docker image keep the bundle. */
export const DEFAULT_WORKFLOW_BUNDLE = path.join(PROJECT_ROOT, 'dist', 'workflow-bundle.js');

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };

export async function bundleWorkflows(out: string = DEFAULT_WORKFLOW_BUNDLE): Promise<string> {
  const { code } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: quietLogger });
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  return out;
}

if (require.main === module) {
  bundleWorkflows(process.argv[2] ? path.resolve(process.argv[2]) : undefined).then(
    (out) => console.log(`workflow bundle written to ${path.relative(process.cwd(), out)}`),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

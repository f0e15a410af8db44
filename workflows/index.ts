// The worker bundles this file: everything exported here runs inside the deterministic workflow sandbox.
export { rolloutWorkflow } from './rollout';
export { deploymentGuardWorkflow } from './deploymentGuard';
export { tuningWorkflow } from './tuning';

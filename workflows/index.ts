// The worker bundles this file: everything exported here runs inside the deterministic workflow sandbox.
import { setWorkflowOptions } from '@temporalio/workflow';
import { deploymentGuardWorkflow } from './deploymentGuard';
import { rolloutWorkflow } from './rollout';

export { rolloutWorkflow, deploymentGuardWorkflow };

// Worker Deployment Versioning (docs/upgrading.md): a rollout runs to the end on the build that started it,
// so a worker upgrade never replays an in-flight rollout on new code. The guard is pinned too: it starts the
// rollout in its first task and only waits for it after, so the claim and its rollout drain with one build,
// and a guard never has to replay on a build other than its own.
setWorkflowOptions({ versioningBehavior: 'PINNED' }, rolloutWorkflow);
setWorkflowOptions({ versioningBehavior: 'PINNED' }, deploymentGuardWorkflow);

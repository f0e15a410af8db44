import { proxyActivities } from '@temporalio/workflow';
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/common';
import type { RolloutActivities } from '../activities';
import { NON_RETRYABLE_TYPES } from '../contract';
import { ACTIVITY_HEARTBEAT_TIMEOUT, PUSH_RETRY_INITIAL_INTERVAL, READ_RETRY_INITIAL_INTERVAL } from './activityTimeouts';

/** Reads: cheap and idempotent, so retried quickly a few times before the rollout gives up. */
export const reads = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: READ_RETRY_INITIAL_INTERVAL, backoffCoefficient: 2, maximumInterval: '20s', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});

/**
 * Letting go of replica leases at the end: best effort, since a lease lapses on its own. Few, quick
 * attempts, so a replica that is gone does not keep the rollout open (and its deployment claimed) for
 * long after its state has ended: a new rollout started right after waits up to 10 s for that.
 */
export const releases = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '1s', maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
});

/** Config pushes restart engines: long, heartbeating, idempotent by revision so a retry cannot apply twice. */
const PUSH_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: ACTIVITY_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: PUSH_RETRY_INITIAL_INTERVAL, backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_TYPES },
};
export const pushes = proxyActivities<RolloutActivities>(PUSH_OPTIONS);

/**
 * The same pushes, but a cancelled push (an abort, a cancelled rollout) is waited for until the activity
 * has stopped: the rollback that follows must not run while pushes of the new config still do.
 */
export const awaitedPushes = proxyActivities<RolloutActivities>({ ...PUSH_OPTIONS, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED });

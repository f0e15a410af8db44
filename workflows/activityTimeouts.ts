/**
 * Timeouts of the rollout's activities that decide how soon another worker takes over from one that
 * died: a dead worker stops heartbeating, the activity times out after ACTIVITY_HEARTBEAT_TIMEOUT and is
 * retried, on any worker, after the retry's first interval. tests/cluster/ asserts the bound they give.
 */
export const ACTIVITY_HEARTBEAT_TIMEOUT = '10 seconds';
/** First retry interval of reads (discovery, sampling, measuring). */
export const READ_RETRY_INITIAL_INTERVAL = '1s';
/** First retry interval of config pushes. */
export const PUSH_RETRY_INITIAL_INTERVAL = '2s';

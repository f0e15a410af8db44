export { appendSeries, createActivities, defaultActivityDeps } from './rolloutActivities';
export type { RolloutActivities, ActivityDeps, ReplicaTarget, MetricSeries, StageMeasurement } from './rolloutActivities';

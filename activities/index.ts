export { createActivities, defaultActivityDeps } from './rolloutActivities';
export type { RolloutActivities, ActivityDeps, HealthMeasurement, ReplicaTarget } from './rolloutActivities';

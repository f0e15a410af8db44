/**
 * Whether a starting worker should make its own build the current version of its Worker Deployment
 * (worker/currentVersion.ts), from that build's status as the server reports it. A build that was
 * current once and has since been replaced (DRAINING, DRAINED) must not take over again on a restart:
 * an old worker that crashes and comes back mid-upgrade would otherwise undo the upgrade. Going back
 * to an old build is an operator's explicit `set-current-version`.
 */
export type CurrentVersionStep = 'set_current' | 'already_current' | 'replaced';

/** `status`: WorkerDeploymentVersionStatus without its prefix (INACTIVE, CURRENT, RAMPING, DRAINING, DRAINED). */
export function currentVersionStep(status: string): CurrentVersionStep {
  switch (status) {
    case 'CURRENT':
      return 'already_current';
    case 'DRAINING':
    case 'DRAINED':
      return 'replaced';
    default:
      // INACTIVE (a build never current yet), RAMPING (an operator is ramping it: finishing the switch is
      // what starting it means), UNSPECIFIED.
      return 'set_current';
  }
}

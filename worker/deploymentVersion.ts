/**
 * Which Worker Deployment Version this worker is. Rollouts are PINNED to the version whose worker ran
 * their first workflow task (workflows/index.ts), so the build ID must change whenever the workflow code
 * does: by default it is the package version plus a hash of the workflow bundle the worker runs.
 * Activities are not part of the bundle, so an activity-only change keeps the build ID (activities are
 * not replayed; in-flight rollouts simply call the new activity code).
 */
import { createHash } from 'node:crypto';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { version as packageVersion } from '../package.json';

/** Deployment name when SERVETUNE_DEPLOYMENT_NAME is unset: every servetune worker on the task queue. */
export const DEFAULT_DEPLOYMENT_NAME = 'servetune';

/**
 * `0.1.0-3f9a1c0b2d4e`: readable release, then 12 hex digits of the SHA-256 of the bundle's code. The
 * inline source map is left out: it holds the absolute paths of the sources, so the same code built in
 * another directory (another host, another checkout) would otherwise count as another build.
 */
export function buildIdFor(release: string, bundleCode: string): string {
  const mapAt = bundleCode.lastIndexOf('\n//# sourceMappingURL=');
  const code = mapAt >= 0 ? bundleCode.slice(0, mapAt) : bundleCode;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 12);
  return `${release}-${hash}`;
}

/** Null when the worker should run unversioned (SERVETUNE_WORKER_VERSIONING=off). */
export function deploymentVersionFromEnv(bundleCode: string, env: NodeJS.ProcessEnv = process.env): WorkerDeploymentVersion | null {
  const mode = (env.SERVETUNE_WORKER_VERSIONING || 'on').toLowerCase();
  if (mode === 'off') return null;
  if (mode !== 'on') throw new Error(`SERVETUNE_WORKER_VERSIONING must be "on" or "off", not "${env.SERVETUNE_WORKER_VERSIONING}"`);
  const deploymentName = env.SERVETUNE_DEPLOYMENT_NAME || DEFAULT_DEPLOYMENT_NAME;
  // The server names a version `<deploymentName>.<buildId>`: a dot in the name would make that ambiguous.
  if (deploymentName.includes('.')) throw new Error(`SERVETUNE_DEPLOYMENT_NAME must not contain ".": "${deploymentName}"`);
  const buildId = env.SERVETUNE_BUILD_ID || buildIdFor(packageVersion, bundleCode);
  return { deploymentName, buildId };
}

/** SERVETUNE_SET_CURRENT_VERSION: whether the worker makes its own version current once it polls (default on). */
export function setsCurrentVersion(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.SERVETUNE_SET_CURRENT_VERSION || 'on').toLowerCase();
  if (value !== 'on' && value !== 'off') throw new Error(`SERVETUNE_SET_CURRENT_VERSION must be "on" or "off", not "${env.SERVETUNE_SET_CURRENT_VERSION}"`);
  return value === 'on';
}

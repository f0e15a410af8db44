/** The network settings of the gateway and the worker (docs/targets-and-network.md). */
import { DEFAULT_ALLOWED_TARGETS, parseAllowlist, type Allowlist } from '../core/targetAllowlist';
import { intFromEnv } from './settings';

/** `SERVETUNE_ALLOWED_TARGETS`, loopback only when unset; an entry that does not parse stops start-up. */
export function allowedTargetsFromEnv(env: NodeJS.ProcessEnv = process.env): Allowlist {
  const spec = env.SERVETUNE_ALLOWED_TARGETS?.trim() || DEFAULT_ALLOWED_TARGETS;
  const { allowlist, problems } = parseAllowlist(spec);
  if (problems.length > 0) throw new Error(`SERVETUNE_ALLOWED_TARGETS: ${problems.join('; ')}`);
  return allowlist;
}

export interface HttpLimits {
  /** Total time a read (config, discovery, metrics, Prometheus query) may take, first byte to last. */
  readDeadlineMs: number;
  /** Total time a config push may take: the agent answers once the restarted engine is healthy. */
  pushDeadlineMs: number;
  /** Largest response body read from a replica or Prometheus. */
  maxResponseBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  readDeadlineMs: 15_000,
  pushDeadlineMs: 10 * 60_000,
  maxResponseBytes: 8 * 1024 * 1024,
};

export function httpLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): HttpLimits {
  const positive = (value: string | undefined, fallback: number) => Math.max(1, intFromEnv(value, fallback));
  return {
    readDeadlineMs: positive(env.SERVETUNE_READ_DEADLINE_MS, DEFAULT_HTTP_LIMITS.readDeadlineMs),
    pushDeadlineMs: positive(env.SERVETUNE_PUSH_DEADLINE_MS, DEFAULT_HTTP_LIMITS.pushDeadlineMs),
    maxResponseBytes: positive(env.SERVETUNE_MAX_RESPONSE_BYTES, DEFAULT_HTTP_LIMITS.maxResponseBytes),
  };
}

import { parseTarget } from '../core/targetAddress';
import { checkTarget, type Allowlist } from '../core/targetAllowlist';
import type { RolloutRequest } from '../models';
import { HttpError } from './httpError';

/**
 * The gateway's half of the allowlist: every address a request would make the worker call is
 * checked before the rollout is claimed (the worker checks again before each request, and checks
 * where names resolve to). The schema has already refused addresses that do not parse.
 */
export function assertTargetsAllowed(request: Pick<RolloutRequest, 'instance_id' | 'replicas' | 'metrics_source'>, allowlist: Allowlist): void {
  const named: Array<[string, string]> = [['instance_id', request.instance_id]];
  request.replicas?.forEach((r, i) => named.push([`replicas[${i}]`, r]));
  if (request.metrics_source?.type === 'prometheus') named.push(['metrics_source.url', request.metrics_source.url]);
  const details = named.flatMap(([field, address]) => {
    const parsed = parseTarget(address);
    if (!parsed.ok) return [{ field, message: parsed.problem }];
    const decision = checkTarget(parsed.target, allowlist);
    return decision.allowed ? [] : [{ field, message: decision.reason }];
  });
  if (details.length > 0) {
    throw new HttpError(400, 'target_not_allowed', `Target not allowed: ${details.map((d) => d.field).join(', ')}`, details);
  }
}

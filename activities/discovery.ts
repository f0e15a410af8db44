import type { AxiosInstance } from 'axios';
import { isAxiosError } from 'axios';
import { parseTarget } from '../core/targetAddress';
import { ReplicaListSchema } from '../models';
import { replicaUrl } from './replicaAddress';

/**
 * The replica list comes from the request, else from the deployment's discovery route, else the
 * deployment is the single replica at `instance_id` (an engine with no agent answers 404 there).
 */
export async function discoverReplicaList(http: AxiosInstance, instanceId: string, requested?: string[], signal?: AbortSignal): Promise<string[]> {
  if (requested && requested.length > 0) return [...new Set(requested)];
  try {
    const res = await http.get(replicaUrl(instanceId, '/servetune/v1/replicas'), { signal });
    const list = ReplicaListSchema.parse(res.data).replicas;
    // A discovery answer is input like any other: each address must be one before anything uses it
    // (the HTTP client then checks each against the allowlist before every request).
    list.forEach((address, i) => {
      const parsed = parseTarget(address);
      if (!parsed.ok) throw new Error(`discovery listed replicas[${i}], which ${parsed.problem}`);
    });
    if (list.length > 0) return [...new Set(list)];
  } catch (err) {
    if (!(isAxiosError(err) && err.response?.status === 404)) throw err;
  }
  return [instanceId];
}

import type { AxiosInstance } from 'axios';
import { isAxiosError } from 'axios';
import { ReplicaListSchema } from '../models';
import { replicaUrl } from './replicaAddress';

/**
 * The replica list comes from the request, else from the deployment's discovery route, else the
 * deployment is the single replica at `instance_id` (an engine with no agent answers 404 there).
 */
export async function discoverReplicaList(http: AxiosInstance, instanceId: string, requested?: string[]): Promise<string[]> {
  if (requested && requested.length > 0) return [...new Set(requested)];
  try {
    const res = await http.get(replicaUrl(instanceId, '/servetune/v1/replicas'));
    const list = ReplicaListSchema.parse(res.data).replicas;
    if (list.length > 0) return [...new Set(list)];
  } catch (err) {
    if (!(isAxiosError(err) && err.response?.status === 404)) throw err;
  }
  return [instanceId];
}

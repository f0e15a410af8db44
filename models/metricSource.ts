import { z } from 'zod';
import { ServerUrlSchema } from './targetAddress';

/**
 * PromQL label matchers, comma-separated: `job="vllm"`, `job=~"vllm-.*",cluster="eu-1"`. Only
 * matchers, so a selector cannot turn the source's query into another query.
 */
export const PROMQL_MATCHERS = /^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*(?:,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*)*$/;

/** A Prometheus label name that is not reserved (`__…`). */
const LABEL_NAME = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Where a rollout reads its replicas' engine metrics:
 * - `scrape` (default): GET each replica's `/metrics` directly.
 * - `prometheus`: one PromQL instant query to a Prometheus server that already scrapes the replicas.
 *   Each replica's series must carry `replica_label` (default `replica`) set to the replica's
 *   address exactly as servetune knows it (e.g. `http://10.0.0.7:8000` or
 *   `http://127.0.0.1:8000/replicas/3`); with `replica_label: "instance"` the replica's `host:port`
 *   is matched against Prometheus' default `instance` label instead (one replica per host:port).
 *   `job_selector` adds label matchers (e.g. `job="vllm"`) to the query.
 */
export const MetricSourceSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('scrape') }).strict(),
  z
    .object({
      type: z.literal('prometheus'),
      url: ServerUrlSchema,
      replica_label: z.string().regex(LABEL_NAME, 'replica_label must be a Prometheus label name').max(128).optional(),
      job_selector: z.string().max(1024).regex(PROMQL_MATCHERS, 'job_selector must be PromQL label matchers, e.g. job="vllm"').optional(),
    })
    .strict(),
]);
export type MetricSourceConfig = z.infer<typeof MetricSourceSchema>;

import type { Bottleneck, Snapshot } from '../models';
import type { Slo } from './healthScore';
import { clearsThreshold, describeMargin, type MarginMetric, type NoiseMargins } from './noiseMargin';

/** Thresholds that are not SLOs: engine-internal signs of trouble. */
export const BOTTLENECK_THRESHOLDS = {
  kv_cache_usage: 0.9,
  preemptions_per_second: 0.1,
  waiting_per_replica: 1,
  /**
   * Mean queue time above this share of the TTFT target is a queue too: a quarter of the time-to-
   * first-token budget spent before the scheduler even admits the request. The waiting gauge is one
   * instant per scrape and misses queues that form and clear between scrapes; the queue-time
   * histogram (vLLM V1) covers every request of the window.
   */
  queue_time_share_of_ttft_slo: 0.25,
};

/**
 * Each bottleneck carries its evidence: the metric, the value seen and the threshold it crossed. With
 * `margins` (the baseline window's per-replica noise, core/noiseMargin.ts) a metric must clear its
 * threshold by its margin, and the description says by how much it had to; without them (one reading,
 * as `servetune analyze` takes) the threshold alone decides.
 */
export function detectBottlenecks(snapshot: Snapshot, slo: Slo, margins?: NoiseMargins): Bottleneck[] {
  const found: Bottleneck[] = [];
  const marginOf = (m: MarginMetric) => margins?.[m];
  const over = (value: number | null, threshold: number, m: MarginMetric): value is number => clearsThreshold(value, threshold, marginOf(m));
  const add = (kind: string, metric: string, value: number | null, threshold: number, description: string, marginMetric: MarginMetric) => {
    if (!over(value, threshold, marginMetric)) return;
    const evidence = margins === undefined ? '' : ` [${describeMargin(metric, value, threshold, marginOf(marginMetric))}]`;
    found.push({ kind, metric, value, threshold, description: `${description}${evidence}`, ...(margins ? { margin: marginOf(marginMetric)?.margin ?? 0 } : {}) });
  };
  add('kv_cache_pressure', 'kv_cache_usage', snapshot.kv_cache_usage, BOTTLENECK_THRESHOLDS.kv_cache_usage,
    'KV cache nearly full: new sequences wait for blocks and running ones get preempted', 'kv_cache_usage');
  add('preemption', 'preemptions_per_second', snapshot.preemptions_per_second, BOTTLENECK_THRESHOLDS.preemptions_per_second,
    'Requests are preempted and recomputed for lack of KV-cache space', 'preemptions_per_second');
  const waitingPerReplica =
    snapshot.requests_waiting === null || snapshot.replicas === 0 ? null : snapshot.requests_waiting / snapshot.replicas;
  const queueMs = snapshot.queue_time_mean_ms ?? null;
  const queueLimitMs = slo.ttft_p95_ms * BOTTLENECK_THRESHOLDS.queue_time_share_of_ttft_slo;
  const waitingOver = over(waitingPerReplica, BOTTLENECK_THRESHOLDS.waiting_per_replica, 'requests_waiting');
  const queueOver = over(queueMs, queueLimitMs, 'queue_time_mean_ms');
  const queueNote = queueMs === null ? '' : ` (mean queue time ${round1(queueMs)} ms)`;
  if (waitingOver) {
    add('queue_backlog', 'requests_waiting_per_replica', waitingPerReplica, BOTTLENECK_THRESHOLDS.waiting_per_replica,
      `Requests queue before the scheduler admits them${queueNote}`, 'requests_waiting');
  } else if (queueOver) {
    add('queue_backlog', 'queue_time_mean_ms', queueMs, queueLimitMs,
      `Requests waited ${round1(queueMs)} ms on average before the scheduler admitted them, over a quarter of the TTFT target (the waiting gauge showed ${waitingPerReplica ?? 'n/a'} per replica at the scrape)`, 'queue_time_mean_ms');
  }
  // A queue while the KV cache has room: the scheduler, not memory, holds requests back (a batch-size
  // cap or over-conservative admission). SGLang's tuning guide reads it the same way: "token usage < 0.9
  // and #queue-req > 0" means "the server is too conservative about taking in new requests". The
  // complement, a queue on a full cache, is kv_cache_pressure. Engines without a KV gauge (TGI) never show it.
  const kv = snapshot.kv_cache_usage;
  if ((waitingOver || queueOver) && kv !== null && kv < BOTTLENECK_THRESHOLDS.kv_cache_usage) {
    found.push({
      kind: 'low_batch_utilisation',
      metric: 'kv_cache_usage',
      value: kv,
      threshold: BOTTLENECK_THRESHOLDS.kv_cache_usage,
      description: 'Requests wait although the KV cache has room: the batch is smaller than memory allows',
    });
  }
  add('high_ttft', 'ttft_p95_ms', snapshot.ttft_p95_ms, slo.ttft_p95_ms, 'Time to first token p95 is above its SLO', 'ttft_p95_ms');
  add('high_itl', 'itl_p95_ms', snapshot.itl_p95_ms, slo.itl_p95_ms, 'Inter-token latency p95 is above its SLO', 'itl_p95_ms');
  add('errors', 'error_rate', snapshot.error_rate, slo.error_rate, 'Error rate is above its SLO', 'error_rate');
  return found;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

import { patched, upsertMemo } from '@temporalio/workflow';
import type { WorkflowState } from '../models';
import { rolloutSummary, summaryChangeKey } from '../core/rolloutSummary';
import { SUMMARY_MEMO_KEY } from '../contract';

/**
 * Keeps the rollout's summary in its memo, so the gateway lists rollouts and describes one no worker
 * answers from visibility alone. Written only when a field of its change key moves (status, step,
 * stage, scores, error), since each write is a history event. Behind a patch: histories recorded before
 * it carry no memo writes.
 */
export class RolloutSummaryMemo {
  private readonly enabled = patched('rollout-summary-memo');
  private written = '';

  record(state: WorkflowState): void {
    if (!this.enabled) return;
    const summary = rolloutSummary(state);
    const key = summaryChangeKey(summary);
    if (key === this.written) return;
    upsertMemo({ [SUMMARY_MEMO_KEY]: summary });
    this.written = key;
  }
}

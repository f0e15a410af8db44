import { ActivityFailure, ApplicationFailure, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ReplicaTarget } from '../activities';
import type { AbortPayload, AuditEntry, Channel, RolloutRequest, WorkflowState, WorkflowStatus } from '../models';
import type { FleetRef } from '../core/fleetRef';
import { withDefaults, type Slo } from '../core/healthScore';
import { leaseSecondsFor, MAX_LEASE_SECONDS } from '../core/replicaLease';
import { initialState } from '../core/rolloutState';
import { closeOpenStages } from '../core/stageRecords';
import { STAGE_KEY, STATUS_KEY } from '../contract';
import { showRolloutDetails } from './webUiStory';
import { RolloutSummaryMemo } from './rolloutSummary';

export interface RolloutWorkflowInput extends RolloutRequest {
  started_by?: string;
  started_via?: Channel;
  /** When the gateway accepted the rollout (its POST answer's `created_at`); absent: the rollout's own start. */
  created_at?: string;
}

/**
 * Behaviour added after the first release, each behind a patch so that histories recorded before it
 * replay the old commands. Asked once, at the start, so a run keeps one behaviour from start to end.
 */
function safetyPatches() {
  return {
    /** An accepted abort is checked before every push and after every sample, and never ends `completed`. */
    abortCheckpoints: patched('abort-checkpoints'),
    /** Pushes run in a scope an abort cancels; compensations run non-cancellable on every path. */
    cancellablePushes: patched('cancellable-pushes'),
    /** The monitoring ticks of a whole rollout are capped (see core/monitoring.ts). */
    boundedMonitoring: patched('bounded-monitoring-ticks'),
    /** The abort update answers once the rollout has ended (rolled back or rejected), not as its rollback begins. */
    abortAnswersWhenEnded: patched('abort-answers-when-ended'),
  };
}

export type SafetyPatches = ReturnType<typeof safetyPatches>;

/**
 * One rollout's state and everything that changes it: the state the query answers, what the rollout
 * changed (the compensation's to-do list), the abort and promotions it was sent. Every change to the
 * state goes through `patchState` or `finish`, which keep the search attributes in step.
 */
export class RolloutRun {
  readonly patches: SafetyPatches = safetyPatches();
  readonly state: WorkflowState;
  readonly slo: Slo;
  /** Replicas this rollout changed, with the config each had before: the compensation's to-do list. */
  readonly changed = new Map<string, ReplicaTarget>();
  /** How long each push claims its replica for this rollout (docs/replica-leases.md). */
  readonly leaseSeconds: number;
  abortRequest: AbortPayload | null = null;
  /** How activities find the replicas again; set once they are discovered. */
  fleet: FleetRef;
  promotions = 0;
  /** The status and stage last written to the search attributes. */
  private indexed = { status: '', stage: '' };
  /** The summary the gateway lists and falls back to, kept in the memo. */
  private readonly summaryMemo = new RolloutSummaryMemo();

  constructor(readonly input: RolloutWorkflowInput) {
    // The gateway answered the POST with its own time: every later read shows the same created_at.
    const accepted = typeof input.created_at === 'string' && !Number.isNaN(Date.parse(input.created_at)) ? input.created_at : null;
    this.state = initialState(workflowInfo().workflowId, input, accepted ?? nowIso());
    this.slo = withDefaults(input.slo);
    this.fleet = { instance_id: input.instance_id, count: 0, digest: '' };
    this.leaseSeconds = leaseSecondsFor(input, MAX_LEASE_SECONDS);
  }

  patchState(patch: Partial<WorkflowState>): void {
    Object.assign(this.state, patch, { updated_at: nowIso() });
    showRolloutDetails(this.state);
    const now = { status: this.state.status, stage: this.state.current_stage ?? 'none' };
    // Upsert only on change: each upsert is a history event, and most patches touch neither field.
    if (now.status !== this.indexed.status || now.stage !== this.indexed.stage) {
      upsertSearchAttributes([
        { key: STATUS_KEY, value: now.status },
        { key: STAGE_KEY, value: now.stage },
      ]);
      this.indexed = now;
    }
    this.summaryMemo.record(this.state);
  }

  finish(status: WorkflowStatus, patch: Partial<WorkflowState> = {}): WorkflowState {
    // State only, no command: finished rollouts show no stage `in_progress`.
    closeOpenStages(this.state.rollout_history, nowIso(), patch.error_message ?? `rollout ${status}`);
    this.patchState({ status, current_step: 'complete', ...patch });
    return this.state;
  }

  audit(action: AuditEntry['action'], by: string, channel: Channel | undefined, detail?: string | null, at: string = nowIso()): void {
    this.state.audit.push({ action, actor: by, channel: channel ?? 'temporal', at, detail: detail ?? null });
  }

  abortMessage(): string {
    return `Aborted by ${this.abortRequest?.aborted_by}${this.abortRequest?.reason ? `: ${this.abortRequest.reason}` : ''}`;
  }
}

export function nowIso(): string {
  // Date.now() inside a workflow is the deterministic workflow clock (replay-safe).
  return new Date(Date.now()).toISOString();
}

export function toMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}

/** Signals from the CLI may carry any JSON; a missing or blank name is recorded as anonymous. */
export function actor(name: unknown): string {
  return typeof name === 'string' && name.trim() !== '' ? name.trim().slice(0, 200) : 'anonymous';
}

export function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return failureMessage(err.cause);
  if (err instanceof ApplicationFailure) return err.message;
  return (err as Error)?.message ?? String(err);
}

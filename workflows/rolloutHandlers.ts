import { ApplicationFailure, condition, currentUpdateInfo, log, setHandler } from '@temporalio/workflow';
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import type { Channel, ViaChannel, WorkflowState } from '../models';
import { checkDecisionPayload, DECISION_FIELDS, isPastDeadline, type CheckedDecision, type DecisionKind } from '../core/decisionPayload';
import { describeRefusal } from '../core/rolloutWhereabouts';
import { DEADLINE_PASSED_ERROR, DECISION_STATES, INVALID_DECISION_ERROR, isTerminalStatus, REST_UPDATE_ID_PREFIX, WRONG_STATE_ERROR } from '../contract';
import {
  abortSignal,
  abortUpdate,
  approveSignal,
  approveUpdate,
  promoteSignal,
  promoteUpdate,
  rejectSignal,
  rejectUpdate,
} from './definitions';
import { actor, nowIso, type RolloutRun } from './rolloutRun';

type Decide = (d: CheckedDecision, channel: Channel) => void;

/**
 * Each decision has a signal (operators' `temporal workflow signal`: ignored when it does not fit)
 * and an update (the gateway's: refused when it does not fit, answered with the state it led to).
 * `checkedDecisions`: decisions are checked against the REST bodies' limits, and their channel comes
 * from how they arrived (signal or update) instead of a payload field; rollouts begun before that keep
 * the old handling when replayed.
 */
export function registerDecisionHandlers(run: RolloutRun, checkedDecisions: boolean): void {
  const { state } = run;
  const awaitingDecision = () => state.status === 'awaiting_approval' && state.approved === null;
  const awaitingPromotion = () => state.current_step === 'await_promotion' && !run.abortRequest;
  const inProgress = () => !isTerminalStatus(state.status);

  const approve: Decide = (d, channel) => {
    run.audit('approve', d.actor, channel, d.note);
    run.patchState({ approved: true, approved_by: d.actor, approval_comment: d.note });
  };
  const reject: Decide = (d, channel) => {
    run.audit('reject', d.actor, channel, d.note);
    run.patchState({ approved: false, rejected_by: d.actor, rejection_reason: d.note });
  };
  const promote: Decide = (d, channel) => {
    run.audit('promote', d.actor, channel);
    run.promotions++;
  };
  const abort: Decide = (d, channel) => {
    if (run.abortRequest || !inProgress()) return;
    run.abortRequest = { aborted_by: d.actor, reason: d.note ?? undefined };
    run.audit('abort', run.abortRequest.aborted_by, channel, d.note);
  };

  decisionSignal(approveSignal, 'approve', approve, awaitingDecision);
  decisionSignal(rejectSignal, 'reject', reject, awaitingDecision);
  decisionSignal(promoteSignal, 'promote', promote, () => true);
  decisionSignal(abortSignal, 'abort', abort, () => true);

  // The decision updates answer once the rollout has acted on them (left the approval or promotion
  // wait), so a read right after the answer shows where the rollout went. An abort takes effect at the
  // rollout's next step and answers once the rollout has ended (`rolled_back`, or `rejected` before any
  // change), so its answer is the status the abort led to; rollouts begun before that answered as the
  // rollback began (status still `rolling_out`), and before the abort checkpoints at once.
  decisionUpdate(approveUpdate, 'approve', approve, awaitingDecision, () => state.status !== 'awaiting_approval');
  decisionUpdate(rejectUpdate, 'reject', reject, awaitingDecision, () => state.status !== 'awaiting_approval');
  decisionUpdate(promoteUpdate, 'promote', promote, awaitingPromotion, () => state.current_step !== 'await_promotion');
  const abortActedOn = () =>
    !run.patches.abortCheckpoints || !inProgress() || (!run.patches.abortAnswersWhenEnded && state.current_step === 'rollback');
  decisionUpdate(abortUpdate, 'abort', abort, inProgress, abortActedOn);

  /** A signal is fire and forget: one that does not fit (shape, deadline, state) is ignored and logged. */
  function decisionSignal(def: SignalDefinition<[unknown?]>, kind: DecisionKind, decide: Decide, fits: () => boolean): void {
    setHandler(def, (p?: unknown) => {
      if (!checkedDecisions) {
        if (fits()) decide(legacyDecision(kind, p), legacyChannel(p));
        return;
      }
      const check = checkDecisionPayload(kind, p);
      if (!check.ok) return log.warn('decision signal ignored: payload does not fit', { signal: kind, problems: check.problems });
      if (isPastDeadline(check.decision, Date.now())) return log.warn('decision signal ignored: its valid_until has passed', { signal: kind });
      if (fits()) decide(check.decision, 'temporal');
    });
  }

  function decisionUpdate<P>(def: UpdateDefinition<WorkflowState, [P]>, kind: DecisionKind, decide: Decide, fits: () => boolean, actedOn: () => boolean): void {
    const { wanted } = DECISION_STATES[kind];
    setHandler(
      def,
      async (p: P) => {
        // The validator has checked the payload; a history from before the check replays the old way.
        const check = checkDecisionPayload(kind, p);
        decide(check.ok ? check.decision : legacyDecision(kind, p), checkedDecisions ? updateChannel() : legacyChannel(p));
        await condition(actedOn);
        return state;
      },
      {
        // Validators do not run on replay, so what they refuse never reaches a history: no patch needed.
        validator: (p: P) => {
          const check = checkDecisionPayload(kind, p);
          if (!check.ok) {
            throw ApplicationFailure.create({ type: INVALID_DECISION_ERROR, message: `Invalid ${kind}: ${check.problems.join('; ')}`, details: check.problems, nonRetryable: true });
          }
          // Workflow time is the time this workflow task started: a decision no worker took before its
          // deadline (the gateway answered 503) is refused now instead of taking effect late.
          if (isPastDeadline(check.decision, Date.now())) {
            throw ApplicationFailure.create({
              type: DEADLINE_PASSED_ERROR,
              message: `The ${kind} was valid until ${new Date(check.decision.validUntil!).toISOString()} and reached a worker at ${nowIso()}; it was not applied`,
              nonRetryable: true,
            });
          }
          requireState(fits(), wanted);
        },
      },
    );
  }

  function requireState(ok: boolean, wanted: string): void {
    if (ok) return;
    throw ApplicationFailure.create({
      type: WRONG_STATE_ERROR,
      message: describeRefusal({ ...state, aborting_by: run.abortRequest?.aborted_by ?? null }, wanted),
      details: [wanted, state.status, state.current_step],
      nonRetryable: true,
    });
  }
}

/** A decision as rollouts begun before the payload check read it (their histories replay this way). */
function legacyDecision(kind: DecisionKind, p: unknown): CheckedDecision {
  const fields = (p ?? {}) as Record<string, unknown>;
  const note = DECISION_FIELDS[kind].note;
  return { actor: actor(fields[DECISION_FIELDS[kind].actor]), note: note ? ((fields[note] as string | undefined) ?? null) : null, validUntil: null };
}

/** The channel as rollouts begun before the check recorded it: from the payload. */
function legacyChannel(p: unknown): Channel {
  return ((p ?? {}) as ViaChannel).channel ?? 'temporal';
}

/** How the running update arrived: the gateway's update IDs carry its prefix. */
function updateChannel(): Channel {
  return currentUpdateInfo()?.id.startsWith(REST_UPDATE_ID_PREFIX) ? 'rest' : 'temporal';
}

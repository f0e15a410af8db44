import { setTimeout as sleep } from 'node:timers/promises';
import { QueryNotRegisteredError, WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import { temporal } from '@temporalio/proto';
import { initialState } from '../core/rolloutState';
import { rolloutSummary } from '../core/rolloutSummary';
import { canonicalDeploymentKey } from '../core/targetAddress';
import {
  RolloutSummarySchema,
  type EngineType,
  type RolloutRead,
  type RolloutRow,
  type WorkflowState,
  type WorkflowStatus,
} from '../models';
import { getStateQuery, type ClaimRequest } from '../workflows/definitions';
import {
  DEPLOYMENT_GUARD_WORKFLOW_TYPE,
  DEPLOYMENT_KEY,
  ENGINE_KEY,
  isGatewayRolloutId,
  isTerminalStatus,
  ROLLOUT_KEY,
  ROLLOUT_WORKFLOW_TYPE,
  STAGE_KEY,
  STATUS_KEY,
  SUMMARY_MEMO_KEY,
} from '../contract';
import { FinishedReadCache, type CachedRead } from './finishedReadCache';
import { HttpError } from './httpError';

const GRPC_NOT_FOUND = 5;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_FAILED_PRECONDITION = 9;

/** Visibility queries quote values in double quotes; escape what would end the string. */
export function quoteVisibility(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function notARollout(workflowId: string, type: string): HttpError {
  return new HttpError(404, 'not_found', `No rollout with id ${workflowId} (it is a ${type} workflow)`);
}

export function isDeadlineExceeded(err: unknown): boolean {
  return (err as { code?: number })?.code === GRPC_DEADLINE_EXCEEDED || /deadline/i.test((err as Error)?.message ?? '');
}

/**
 * The one visibility query of a list: this gateway's rollouts (with the status filter) and, when pending
 * ones are wanted, the running guards of rollouts accepted but not started yet.
 */
export function listQuery(taskQueue: string, filter: Omit<ListFilter, 'limit'>): string {
  // Only rollouts this gateway's workers serve.
  const scope = [`TaskQueue = ${quoteVisibility(taskQueue)}`];
  // Rollouts started before deployment keys carry the spelling they were started with.
  if (filter.instance_id) {
    const spellings = [...new Set([canonicalDeploymentKey(filter.instance_id), filter.instance_id])];
    scope.push(`${DEPLOYMENT_KEY.name} IN (${spellings.map(quoteVisibility).join(', ')})`);
  }
  const rollouts = [`WorkflowType = '${ROLLOUT_WORKFLOW_TYPE}'`];
  if (filter.status) rollouts.push(`${STATUS_KEY.name} = ${quoteVisibility(filter.status)}`);
  const kinds = [`(${rollouts.join(' AND ')})`];
  if (!filter.status || filter.status === 'pending') kinds.push(`(WorkflowType = '${DEPLOYMENT_GUARD_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running')`);
  return `${scope.join(' AND ')} AND (${kinds.join(' OR ')})`;
}

/** A GET's answer: serialized once for a finished rollout (cached, with its ETag), a value otherwise. */
export type ReadAnswer = { kind: 'finished'; read: CachedRead } | { kind: 'value'; value: RolloutRead };

export interface ListFilter {
  instance_id?: string;
  status?: WorkflowStatus;
  limit: number;
}

export interface ReadsOptions {
  /** How long a running rollout's query waits for a worker before GET answers the memo summary. */
  queryTimeoutMs: number;
  /** Finished rollouts' answers kept in memory (0: none). */
  cacheSize: number;
}

export const DEFAULT_READS: ReadsOptions = { queryTimeoutMs: 3000, cacheSize: 1000 };

/** The state of a rollout accepted a moment ago whose guard has not started it yet. */
export function pendingState(claim: ClaimRequest, at: Date): WorkflowState {
  const now = at.toISOString();
  return {
    ...initialState(claim.rollout_id, claim.request, now),
    audit: [{ action: 'start', actor: claim.started_by, channel: 'rest', at: now, detail: null }],
  };
}

/**
 * A list row from what visibility holds: the rollout's memo summary, or, for a rollout started before it
 * kept one, its search attributes. A rollout that did not end by itself (terminated, cancelled, failed
 * or timed out in Temporal) says so, whatever its last summary said.
 */
export function rowFromVisibility(info: Pick<WorkflowExecutionInfo, 'workflowId' | 'memo' | 'status' | 'typedSearchAttributes' | 'startTime' | 'closeTime'>): RolloutRow {
  const memo = RolloutSummarySchema.safeParse(info.memo?.[SUMMARY_MEMO_KEY]);
  const execution = info.status.name;
  const row: RolloutRow = memo.success
    ? { ...memo.data, execution_status: execution, summary_source: 'memo' }
    : {
        workflow_id: info.workflowId,
        instance_id: info.typedSearchAttributes.get(DEPLOYMENT_KEY) ?? 'unknown',
        instance_type: (info.typedSearchAttributes.get(ENGINE_KEY) as EngineType | undefined) ?? null,
        status: (info.typedSearchAttributes.get(STATUS_KEY) as WorkflowStatus | undefined) ?? 'pending',
        current_step: null,
        current_stage: stageOf(info.typedSearchAttributes.get(STAGE_KEY)),
        created_at: info.startTime.toISOString(),
        updated_at: (info.closeTime ?? info.startTime).toISOString(),
        requires_approval: null,
        health_score_baseline: null,
        health_score_current: null,
        final_health_score: null,
        total_improvement: null,
        error_message: null,
        execution_status: execution,
        summary_source: 'search_attributes',
      };
  return { ...row, ...closedByTemporal(execution, row) };
}

/**
 * A rollout Temporal closed before it ended by itself (terminated, failed, timed out; cancelled before it
 * could wind down) is `failed`, whatever status it last recorded, and its error says so.
 */
export function closedByTemporal(execution: string, s: Pick<RolloutRow, 'status' | 'error_message'>): Pick<RolloutRow, 'status' | 'error_message'> {
  if (execution === 'RUNNING' || execution === 'COMPLETED' || isTerminalStatus(s.status)) return { status: s.status, error_message: s.error_message };
  const what = execution.toLowerCase().replace('_', ' ');
  return { status: 'failed', error_message: `The rollout workflow was ${what} in Temporal while ${s.status}${s.error_message ? ` (${s.error_message})` : ''}` };
}

/** Why a running rollout's query gave no state, in words for `live_unavailable_reason`. */
export function whyNoAnswer(err: unknown, timeoutMs: number, taskQueue: string): string {
  const cause = (err as { cause?: { code?: number; message?: string } })?.cause;
  if (cause?.code === GRPC_FAILED_PRECONDITION && /poller/i.test(cause.message ?? '')) {
    return `No worker polls task queue ${taskQueue} (is the worker running?); this is the rollout's last summary`;
  }
  if (isDeadlineExceeded(err) || isDeadlineExceeded(cause)) {
    return `No worker answered within ${timeoutMs / 1000} s (is a worker polling task queue ${taskQueue}, or is it busy?); this is the rollout's last summary`;
  }
  return `The rollout's query failed (${cause?.message ?? (err as Error)?.message ?? String(err)}); this is its last summary`;
}

/** Temporal's status of a closed workflow, named as visibility names it, from its close event. */
function closeStatus(e: temporal.api.history.v1.IHistoryEvent): string {
  if (e.workflowExecutionFailedEventAttributes) return 'FAILED';
  if (e.workflowExecutionTerminatedEventAttributes) return 'TERMINATED';
  if (e.workflowExecutionCanceledEventAttributes) return 'CANCELLED';
  if (e.workflowExecutionTimedOutEventAttributes) return 'TIMED_OUT';
  if (e.workflowExecutionContinuedAsNewEventAttributes) return 'CONTINUED_AS_NEW';
  return 'COMPLETED';
}

function isCloseEvent(e: temporal.api.history.v1.IHistoryEvent): boolean {
  return Boolean(
    e.workflowExecutionCompletedEventAttributes ||
      e.workflowExecutionFailedEventAttributes ||
      e.workflowExecutionTerminatedEventAttributes ||
      e.workflowExecutionCanceledEventAttributes ||
      e.workflowExecutionTimedOutEventAttributes ||
      e.workflowExecutionContinuedAsNewEventAttributes,
  );
}

function stageOf(indexed: string | undefined): string | null {
  return indexed === undefined || indexed === 'none' ? null : indexed;
}

/** When the POST was answered (the claim carries it); claims made before that carry only their guard's start. */
function claimedAt(claim: ClaimRequest, guard: WorkflowExecutionInfo): Date {
  return claim.created_at ? new Date(claim.created_at) : guard.startTime;
}

function claimRow(claim: ClaimRequest, guard: WorkflowExecutionInfo): RolloutRow {
  return { ...rolloutSummary(pendingState(claim, claimedAt(claim, guard))), execution_status: 'NOT_STARTED', summary_source: 'claim' };
}

/**
 * Every read the gateway makes, built so that none needs a worker: a finished rollout is its workflow's
 * result (one call, then cached), a running one is a query with a short deadline that falls back to
 * the memo summary, a list is one visibility call.
 */
export class RolloutReads {
  private readonly cache: FinishedReadCache;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly options: ReadsOptions = DEFAULT_READS,
  ) {
    this.cache = new FinishedReadCache(options.cacheSize);
  }

  async get(workflowId: string, retryNotFound = true): Promise<ReadAnswer> {
    // Only the gateway's own IDs (a fresh UUID each) are cached: another ID could be reused by a new run.
    const cacheable = isGatewayRolloutId(workflowId);
    const cached = cacheable ? this.cache.get(workflowId) : undefined;
    if (cached) return { kind: 'finished', read: cached };
    // The gateway names its rollouts `rollout-…`; any other ID is looked at first, so a workflow of
    // another type (a deployment guard) is a 404, not a query no worker of ours answers. Its status then
    // says whether to query it or read its close event.
    if (!isGatewayRolloutId(workflowId)) {
      const described = await this.client.workflow
        .getHandle(workflowId)
        .describe()
        .catch((err) => (err instanceof WorkflowNotFoundError ? null : Promise.reject(err)));
      if (described === null) throw new HttpError(404, 'not_found', `No rollout with id ${workflowId}`);
      if (described.type !== ROLLOUT_WORKFLOW_TYPE) throw notARollout(workflowId, described.type);
      if (described.status.name === 'RUNNING') return { kind: 'value', value: await this.running(workflowId) };
    }
    const close = await this.closeEvent(workflowId);
    if (close === 'running') return { kind: 'value', value: await this.running(workflowId) };
    if (close) return { kind: 'finished', read: await this.finished(workflowId, close, cacheable) };
    const pending = await this.pending(workflowId);
    if (pending) return { kind: 'value', value: { ...pending, live: true } };
    // Visibility can lag a guard started a moment ago.
    if (retryNotFound && isGatewayRolloutId(workflowId)) {
      await sleep(250);
      return this.get(workflowId, false);
    }
    throw new HttpError(404, 'not_found', `No rollout with id ${workflowId}`);
  }

  /** The answer as a value (for refusal messages): parsed back from the cache for a finished rollout. */
  async read(workflowId: string): Promise<RolloutRead> {
    const answer = await this.get(workflowId);
    return answer.kind === 'value' ? answer.value : (JSON.parse(answer.read.body) as RolloutRead);
  }

  /**
   * The workflow's close event, `running`, or null when there is no such workflow: its last event, read
   * with one reverse-history call the server answers alone. (A close-event-filtered history would do
   * too, but the server long-polls it for 20 s on a running workflow.)
   */
  private async closeEvent(workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent | 'running' | null> {
    try {
      const res = await this.client.workflowService.getWorkflowExecutionHistoryReverse({
        namespace: this.client.options.namespace,
        execution: { workflowId },
        maximumPageSize: 1,
      });
      const last = res.history?.events?.[0];
      return last && isCloseEvent(last) ? last : 'running';
    } catch (err) {
      if ((err as { code?: number }).code === GRPC_NOT_FOUND) return null;
      throw err;
    }
  }

  /** A closed rollout: its final state is the workflow's return value; one that did not end by itself answers its summary. */
  private async finished(workflowId: string, close: temporal.api.history.v1.IHistoryEvent, cacheable: boolean): Promise<CachedRead> {
    const keep = (answer: RolloutRead) => (cacheable ? this.cache.put(workflowId, answer) : FinishedReadCache.serialize(answer));
    const completed = close.workflowExecutionCompletedEventAttributes;
    if (completed) {
      const raw = this.plainJsonObject(completed.result?.payloads?.[0]);
      if (raw !== null) {
        const read = FinishedReadCache.tagged(`${raw.slice(0, -1)},"live":true}`);
        return cacheable ? this.cache.keep(workflowId, read) : read;
      }
      const state = await decodeFromPayloadsAtIndex<WorkflowState>(this.client.options.loadedDataConverter, 0, completed.result?.payloads);
      return keep({ ...state, live: true });
    }
    // Closed without returning its state (a cancelled rollout rolls back first, then ends cancelled): a
    // worker replaying it answers the query; without one, the summary, not kept, so a later read can do better.
    const execution = closeStatus(close);
    const read = await this.queried(workflowId, execution);
    if (!read.live) return FinishedReadCache.serialize(read);
    return keep({ ...read, ...closedByTemporal(execution, read) });
  }

  /**
   * The final state's JSON text as it is stored, when the default converter wrote it (`json/plain`, no
   * codec, no external storage): the answer is that text plus `live`, with no parse and re-serialization
   * of a state that can be tens of kilobytes. Null when it must be decoded.
   */
  private plainJsonObject(payload: temporal.api.common.v1.IPayload | undefined): string | null {
    const converter = this.client.options.loadedDataConverter;
    if (!payload?.data || converter.payloadCodecs.length > 0 || converter.externalStorage) return null;
    const encoding = payload.metadata?.encoding;
    if (!encoding || Buffer.from(encoding).toString() !== 'json/plain') return null;
    const text = Buffer.from(payload.data.buffer, payload.data.byteOffset, payload.data.byteLength).toString('utf8');
    return text.startsWith('{') && text.endsWith('}') && text !== '{}' ? text : null;
  }

  /** A running rollout: its query, or, when no worker answers within the deadline, its last summary. */
  private running(workflowId: string): Promise<RolloutRead> {
    return this.queried(workflowId, 'RUNNING');
  }

  private async queried(workflowId: string, execution: string): Promise<RolloutRead> {
    const handle = this.client.workflow.getHandle(workflowId);
    let reason: string;
    try {
      const state = await this.client.connection.withDeadline(Date.now() + this.options.queryTimeoutMs, () => handle.query(getStateQuery));
      return { ...state, live: true };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpError(404, 'not_found', `No rollout with id ${workflowId}`);
      if (err instanceof QueryNotRegisteredError) throw notARollout(workflowId, (await handle.describe()).type);
      reason = whyNoAnswer(err, this.options.queryTimeoutMs, this.taskQueue);
      if (execution !== 'RUNNING') reason = `The workflow closed as ${execution} without returning its state. ${reason}`;
    }
    return { ...rowFromVisibility(await handle.describe()), live: false, live_unavailable_reason: reason };
  }

  /** A rollout answered 201 a moment ago may not have started yet: its guard's claim describes it. */
  private async pending(workflowId: string): Promise<WorkflowState | null> {
    if (!isGatewayRolloutId(workflowId)) return null;
    const [guard] = await this.visible(`WorkflowType = '${DEPLOYMENT_GUARD_WORKFLOW_TYPE}' AND ${ROLLOUT_KEY.name} = ${quoteVisibility(workflowId)}`, 1);
    const claim = guard?.memo?.claim as ClaimRequest | undefined;
    // A tuning run's claim describes no rollout: its rollouts are started (and read) one by one.
    return claim && !claim.tuning && guard.status.name === 'RUNNING' ? pendingState(claim, claimedAt(claim, guard)) : null;
  }

  /**
   * Rollouts, newest first, from one visibility call: rollouts with their memo summaries, and the
   * running guards of rollouts accepted but not started yet (their claims). No query, no worker.
   */
  async list(filter: ListFilter): Promise<RolloutRow[]> {
    const found = await this.visible(listQuery(this.taskQueue, filter), filter.limit);

    const rows = found.filter((wf) => wf.type === ROLLOUT_WORKFLOW_TYPE).map(rowFromVisibility);
    const listed = new Set(rows.map((r) => r.workflow_id));
    for (const guard of found.filter((wf) => wf.type === DEPLOYMENT_GUARD_WORKFLOW_TYPE)) {
      const claim = guard.memo?.claim as ClaimRequest | undefined;
      // A guard is never a row of its own: it stands for its rollout until that rollout is listed.
      // A tuning run's claim is no rollout: its rollouts list themselves.
      if (claim && !claim.tuning && !listed.has(claim.rollout_id)) rows.push(claimRow(claim, guard));
    }
    return rows
      .filter((r) => !filter.status || r.status === filter.status)
      .sort((a, b) => b.created_at.localeCompare(a.created_at))
      .slice(0, filter.limit);
  }

  private async visible(query: string, limit: number): Promise<WorkflowExecutionInfo[]> {
    const found: WorkflowExecutionInfo[] = [];
    for await (const wf of this.client.workflow.list({ query, pageSize: limit })) {
      found.push(wf);
      if (found.length >= limit) break;
    }
    return found;
  }
}

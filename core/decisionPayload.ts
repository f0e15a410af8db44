/**
 * The shape a decision (approve, reject, promote, abort) must have when it reaches the workflow, checked
 * by hand so it runs in the workflow sandbox, where zod is kept out of the bundle. The limits are the
 * ones the REST bodies' zod schemas (`models/signals.ts`) use, imported from here, so the two cannot
 * drift; `tests/unit/core/decisionPayload.test.ts` runs both over one table.
 */

/** Longest name of who decided (after trimming). */
export const ACTOR_MAX_LENGTH = 200;
/** Longest comment or reason. */
export const NOTE_MAX_LENGTH = 2000;
/**
 * Largest decision payload, as JSON text. A payload within the field limits is far smaller (even with
 * every character JSON-escaped), so this only stops a huge one from being walked at all.
 */
export const DECISION_PAYLOAD_MAX_CHARS = 16_384;

export type DecisionKind = 'approve' | 'reject' | 'promote' | 'abort';

/** Each decision's own fields: who decided, and the free-text note it may carry. */
export const DECISION_FIELDS: Record<DecisionKind, { actor: string; note?: string }> = {
  approve: { actor: 'approved_by', note: 'comment' },
  reject: { actor: 'rejected_by', note: 'reason' },
  promote: { actor: 'promoted_by' },
  abort: { actor: 'aborted_by', note: 'reason' },
};

/**
 * Fields not typed by people: `valid_until`, the gateway's deadline (ISO 8601) after which the decision
 * must not take effect; `channel`, which older gateways and scripts sent, is accepted and ignored (the
 * workflow records the channel from how the decision arrived, never from the payload).
 */
const TRANSPORT_FIELDS = ['valid_until', 'channel'];

export interface CheckedDecision {
  actor: string;
  note: string | null;
  /** Epoch milliseconds after which the decision is refused, or null for none. */
  validUntil: number | null;
}

export type DecisionCheck = { ok: true; decision: CheckedDecision } | { ok: false; problems: string[] };

/** Validates a decision payload; `undefined`/`null` is an empty one (anonymous, no note), as an empty REST body is. */
export function checkDecisionPayload(kind: DecisionKind, raw: unknown): DecisionCheck {
  const payload = raw === undefined || raw === null ? {} : raw;
  if (typeof payload !== 'object' || Array.isArray(payload)) return refuse('(payload): must be a JSON object');
  if (JSON.stringify(payload).length > DECISION_PAYLOAD_MAX_CHARS) return refuse(`(payload): larger than ${DECISION_PAYLOAD_MAX_CHARS} characters of JSON`);
  const fields = payload as Record<string, unknown>;
  const own = DECISION_FIELDS[kind];
  const problems: string[] = [];
  for (const key of Object.keys(fields)) {
    if (key !== own.actor && key !== own.note && !TRANSPORT_FIELDS.includes(key)) problems.push(`${key}: unknown field`);
  }

  let actor = 'anonymous';
  const rawActor = fields[own.actor];
  if (rawActor !== undefined) {
    if (typeof rawActor !== 'string') problems.push(`${own.actor}: must be a string`);
    else if (rawActor.trim() === '') problems.push(`${own.actor}: must not be blank`);
    else if (rawActor.trim().length > ACTOR_MAX_LENGTH) problems.push(`${own.actor}: longer than ${ACTOR_MAX_LENGTH} characters`);
    else actor = rawActor.trim();
  }

  let note: string | null = null;
  const rawNote = own.note === undefined ? undefined : fields[own.note];
  if (rawNote !== undefined) {
    if (typeof rawNote !== 'string') problems.push(`${own.note}: must be a string`);
    else if (rawNote.length > NOTE_MAX_LENGTH) problems.push(`${own.note}: longer than ${NOTE_MAX_LENGTH} characters`);
    else note = rawNote;
  }

  let validUntil: number | null = null;
  const rawDeadline = fields.valid_until;
  if (rawDeadline !== undefined) {
    const ms = typeof rawDeadline === 'string' ? Date.parse(rawDeadline) : NaN;
    if (Number.isNaN(ms)) problems.push('valid_until: must be an ISO 8601 date-time');
    else validUntil = ms;
  }

  if (fields.channel !== undefined && fields.channel !== 'rest' && fields.channel !== 'temporal') problems.push('channel: must be "rest" or "temporal"');

  return problems.length > 0 ? { ok: false, problems } : { ok: true, decision: { actor, note, validUntil } };
}

/** True once the workflow's clock is past the decision's deadline: the decision must not take effect. */
export function isPastDeadline(decision: CheckedDecision, nowMs: number): boolean {
  return decision.validUntil !== null && nowMs > decision.validUntil;
}

function refuse(problem: string): DecisionCheck {
  return { ok: false, problems: [problem] };
}

import { checkDecisionPayload, DECISION_PAYLOAD_MAX_CHARS, isPastDeadline, type DecisionKind } from '../../../core/decisionPayload';
import { AbortSchema, ApproveSchema, PromoteSchema, RejectSchema } from '../../../models';

const SCHEMAS = { approve: ApproveSchema, reject: RejectSchema, promote: PromoteSchema, abort: AbortSchema };

/** [kind, payload as a person would type it]: the sandbox check and the REST body's zod schema must agree. */
const PEOPLE_PAYLOADS: Array<[DecisionKind, unknown]> = [
  ['approve', {}],
  ['approve', { approved_by: 'alice' }],
  ['approve', { approved_by: '  alice  ', comment: 'ok' }],
  ['approve', { approved_by: 'a'.repeat(200) }],
  ['approve', { approved_by: 'a'.repeat(201) }],
  ['approve', { approved_by: ` ${'a'.repeat(200)} ` }],
  ['approve', { approved_by: '   ' }],
  ['approve', { approved_by: '' }],
  ['approve', { approved_by: 42 }],
  ['approve', { approved_by: null }],
  ['approve', { comment: 'c'.repeat(2000) }],
  ['approve', { comment: 'c'.repeat(2001) }],
  ['approve', { comment: 7 }],
  ['approve', { approved_by: 'x', reason: 'wrong field for approve' }],
  ['approve', { approved_by: 'x', is_admin: true }],
  ['reject', { rejected_by: 'bob', reason: 'freeze' }],
  ['reject', { rejected_by: 'bob', comment: 'wrong field for reject' }],
  ['reject', { reason: 'r'.repeat(2001) }],
  ['promote', { promoted_by: 'carol' }],
  ['promote', { promoted_by: 'carol', reason: 'promote has no note' }],
  ['abort', { aborted_by: 'dave', reason: 'pager' }],
  ['abort', { aborted_by: ['dave'] }],
];

describe('decision payloads in the workflow sandbox', () => {
  it.each(PEOPLE_PAYLOADS)('%s %j: accepted exactly when the REST schema accepts it, with the same values', (kind, payload) => {
    const zod = SCHEMAS[kind].safeParse(payload);
    const check = checkDecisionPayload(kind, payload);
    expect(check.ok).toBe(zod.success);
    if (check.ok && zod.success) {
      const data = zod.data as Record<string, string | undefined>;
      const [actorField, noteField] = Object.keys(SCHEMAS[kind].shape);
      expect(check.decision.actor).toBe(data[actorField]);
      expect(check.decision.note).toBe(kind === 'promote' ? null : (data[noteField] ?? null));
    }
  });

  it.each([
    ['no payload at all (a CLI signal without input)', undefined, { actor: 'anonymous', note: null, validUntil: null }],
    ['null', null, { actor: 'anonymous', note: null, validUntil: null }],
    ['the legacy channel mark, ignored', { approved_by: 'ops', channel: 'rest' }, { actor: 'ops', note: null, validUntil: null }],
    ['the gateway deadline', { valid_until: '2026-01-01T00:00:00.000Z' }, { actor: 'anonymous', note: null, validUntil: Date.parse('2026-01-01T00:00:00.000Z') }],
  ])('accepts %s', (_name, payload, decision) => {
    expect(checkDecisionPayload('approve', payload)).toEqual({ ok: true, decision });
  });

  it.each([
    ['a string', 'approve', '(payload): must be a JSON object'],
    ['an array', [{ approved_by: 'x' }], '(payload): must be a JSON object'],
    ['a number', 1, '(payload): must be a JSON object'],
    ['a huge payload', { approved_by: 'x', comment: 'c'.repeat(DECISION_PAYLOAD_MAX_CHARS) }, `(payload): larger than ${DECISION_PAYLOAD_MAX_CHARS} characters of JSON`],
    ['a channel that is not one', { channel: 'admin' }, 'channel: must be "rest" or "temporal"'],
    ['a deadline that is not a date', { valid_until: 'soon' }, 'valid_until: must be an ISO 8601 date-time'],
    ['a deadline that is a number', { valid_until: 1767225600000 }, 'valid_until: must be an ISO 8601 date-time'],
  ])('refuses %s, naming the problem', (_name, payload, problem) => {
    expect(checkDecisionPayload('approve', payload)).toEqual({ ok: false, problems: [problem] });
  });

  it('names every problem of a payload at once', () => {
    expect(checkDecisionPayload('reject', { rejected_by: 1, reason: 2, x: 3 })).toEqual({
      ok: false,
      problems: ['x: unknown field', 'rejected_by: must be a string', 'reason: must be a string'],
    });
  });
});

describe('decision deadlines', () => {
  const at = Date.parse('2026-12-02T03:00:00.000Z');
  it.each([
    ['no deadline', null, at + 1e9, false],
    ['before the deadline', at, at - 1, false],
    ['exactly at the deadline', at, at, false],
    ['after the deadline', at, at + 1, true],
  ])('%s', (_name, validUntil, now, past) => {
    expect(isPastDeadline({ actor: 'a', note: null, validUntil }, now)).toBe(past);
  });
});

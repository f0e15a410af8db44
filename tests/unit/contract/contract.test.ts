import {
  DECISION_STATES,
  deploymentGuardId,
  DEPLOYMENT_GUARD_ID_PREFIX,
  isGatewayRolloutId,
  isTerminalStatus,
  NON_RETRYABLE,
  NON_RETRYABLE_TYPES,
  REST_UPDATE_ID_PREFIX,
  restUpdateId,
  rolloutId,
  SEARCH_ATTRIBUTE_KEYS,
  TERMINAL_STATUSES,
} from '../../../contract';
import { WorkflowStatusSchema, type WorkflowStatus } from '../../../models';

// These values are recorded in histories and relied on by older gateways: the literals here are the
// released build's, so a change to any of them fails this test before it fails a replay.
describe('contract', () => {
  it.each<[WorkflowStatus, boolean]>([
    ['pending', false],
    ['running', false],
    ['awaiting_approval', false],
    ['rolling_out', false],
    ['completed', true],
    ['rejected', true],
    ['rolled_back', true],
    ['failed', true],
  ])('status %s is terminal: %s', (status, terminal) => {
    expect(isTerminalStatus(status)).toBe(terminal);
  });

  it('lists only statuses the schema knows', () => {
    expect([...TERMINAL_STATUSES].every((s) => WorkflowStatusSchema.options.includes(s))).toBe(true);
  });

  it('builds the IDs the gateway and the workflow recognise', () => {
    expect(rolloutId('abc')).toBe('rollout-abc');
    expect(isGatewayRolloutId(rolloutId('abc'))).toBe(true);
    expect(isGatewayRolloutId('deployment-guard:localhost:8000')).toBe(false);
    expect(restUpdateId('u1')).toBe('rest:u1');
    expect(REST_UPDATE_ID_PREFIX).toBe('rest:');
    expect(DEPLOYMENT_GUARD_ID_PREFIX).toBe('deployment-guard:');
    // Loopback spellings of one deployment share one guard.
    expect(deploymentGuardId('http://127.0.0.1:8000')).toBe(deploymentGuardId('localhost:8000'));
    expect(deploymentGuardId('localhost:8000').startsWith(DEPLOYMENT_GUARD_ID_PREFIX)).toBe(true);
  });

  it('keeps the non-retryable error types and their order', () => {
    expect(NON_RETRYABLE_TYPES).toEqual(['ConfigRejected', 'InvalidReplicaAnswer', 'FleetChanged']);
    // TargetRefused is carried by the failure itself (`nonRetryable`), not by the released retry policies.
    expect(Object.values(NON_RETRYABLE).sort()).toEqual([...NON_RETRYABLE_TYPES, 'TargetRefused'].sort());
    expect(NON_RETRYABLE_TYPES).not.toContain(NON_RETRYABLE.targetRefused);
  });

  it('words each decision refusal the way the workflow and the gateway both do', () => {
    expect(DECISION_STATES).toEqual({
      approve: { wanted: 'awaiting approval', refusalCode: 'not_awaiting_approval' },
      reject: { wanted: 'awaiting approval', refusalCode: 'not_awaiting_approval' },
      promote: { wanted: 'awaiting promotion', refusalCode: 'not_awaiting_promotion' },
      abort: { wanted: 'in progress', refusalCode: 'not_in_progress' },
    });
  });

  it('keeps the search attribute names', () => {
    expect(SEARCH_ATTRIBUTE_KEYS.map((k) => k.name)).toEqual(['ServetuneDeployment', 'ServetuneEngine', 'ServetuneStatus', 'ServetuneStage', 'ServetuneRollout']);
  });
});

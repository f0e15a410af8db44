/** The four decision commands, as `registerDecision` specs. */
import type { Command } from 'commander';
import { registerDecision, type DecisionCommand } from './decisionCommand';
import { defaultGatewayDeps, type GatewayDeps } from './gateway';
import type { CliIO } from './io';

export const DECISION_COMMANDS: readonly DecisionCommand[] = [
  {
    decision: 'approve',
    description: 'approve a rollout that is awaiting approval; it starts rolling out',
    actorField: 'approved_by',
    note: { option: 'comment', field: 'comment', help: 'a comment recorded with the approval' },
    summary: (s) => `Approved ${s.workflow_id} as ${s.approved_by ?? 'anonymous'}: now ${s.status} (${s.current_step})`,
  },
  {
    decision: 'reject',
    description: 'reject a rollout that is awaiting approval; it ends without changing anything',
    actorField: 'rejected_by',
    note: { option: 'reason', field: 'reason', help: 'why, recorded with the rejection' },
    summary: (s) => `Rejected ${s.workflow_id} as ${s.rejected_by ?? 'anonymous'}: now ${s.status}`,
  },
  {
    decision: 'promote',
    description: 'move a rollout that waits for promotion (started with --no-auto-rollout) on to its next stage',
    actorField: 'promoted_by',
    summary: (s) => `Promoted ${s.workflow_id}: now ${s.status} (${s.current_step}${s.current_stage ? `, stage ${s.current_stage}` : ''})`,
  },
  {
    decision: 'abort',
    description: 'stop a rollout in progress; the replicas it changed are put back on their previous config',
    actorField: 'aborted_by',
    note: { option: 'reason', field: 'reason', help: 'why, recorded with the abort' },
    summary: (s) => `Abort of ${s.workflow_id} accepted: now ${s.status} (${s.current_step})`,
  },
];

export function registerDecisions(program: Command, io: CliIO, deps: GatewayDeps = defaultGatewayDeps): void {
  for (const spec of DECISION_COMMANDS) registerDecision(program, io, spec, deps);
}

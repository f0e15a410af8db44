/**
 * `servetune tune start|status|watch|stop`: a tuning run through the gateway. `start` takes the same
 * deployment options as `servetune start` plus the goal, approvals and budget; `watch` prints each new
 * decision-log entry until the run ends (exit 3 when it ends `failed`).
 */
import { type Command, InvalidArgumentError } from 'commander';
import { describeAwaitingApproval, describeEntry } from '../core/tuningProgress';
import type { TuningRequestInput, TuningState } from '../models';
import { defaultGatewayDeps, GatewayClient, type GatewayDeps } from './gateway';
import { CliExit, EXIT, type CliIO } from './io';

function number(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('not a number');
  return n;
}

/** The run in a few lines: where it stands, then its decision log. */
export function formatTuning(s: TuningState): string {
  const score = (v: number | null) => (v === null ? '–' : v.toFixed(1));
  const lines = [
    `${s.tuning_id}  ${s.instance_type} ${s.instance_id}  ${s.status}${s.stop_reason ? ` (${s.stop_reason})` : ''}`,
    `health ${score(s.initial_score)} → ${score(s.current_score)}, best ${score(s.best_score)}, target ${s.target_health}`,
    `iterations ${s.iterations}/${s.budget.max_iterations}, restarts ${s.restarts_spent}/${s.budget.max_restarts}, approval ${s.approval}`,
  ];
  if (s.current_rollout_id) lines.push(`current rollout: ${s.current_rollout_id}`);
  if (s.awaiting_approval) lines.push(describeAwaitingApproval(s.awaiting_approval));
  if (s.stop_requested_by) lines.push(`stop requested by ${s.stop_requested_by}`);
  if (s.error_message) lines.push(`error: ${s.error_message}`);
  if (s.saturated_probes) lines.push(`saturated in the last ${s.saturated_probes} probe(s)`);
  const v = s.capacity_verdict;
  if (v) {
    lines.push(
      `capacity bound: ${v.replicas_needed} replicas needed (${v.replicas} run); served ${v.corner_served_rps_per_replica} of ${v.corner_offered_rps_per_replica} rps per replica at the corner${v.rollout_id ? ` [${v.rollout_id}]` : ''}`,
      `      ${v.argument}`,
    );
  }
  for (const e of s.decision_log) lines.push(`  ${describeEntry(e)}  [${e.rollout_id}]`, `      ${e.evidence}`);
  return `${lines.join('\n')}\n`;
}

export function registerTune(program: Command, io: CliIO, deps: GatewayDeps = defaultGatewayDeps): Command {
  const gateway = () => GatewayClient.fromEnv(deps.env, deps.timeoutMs);
  const tune = program.command('tune').description('closed-loop tuning: successive staged rollouts until the SLO is met or a budget is spent');

  tune
    .command('start')
    .description('start a tuning run of a deployment (holds the deployment until it ends)')
    .requiredOption('--instance <host:port>', 'the deployment')
    .requiredOption('--engine <vllm|tgi|sglang>', 'its engine')
    .option('--target <score>', 'health score that counts as SLO met', number)
    .option('--approval <each|first|none>', 'which iterations wait for an approve')
    .option('--max-iterations <n>', 'iteration budget', number)
    .option('--max-restarts <n>', 'engine-restart budget (replicas pushed)', number)
    .option('--max-wall-seconds <n>', 'wall-time budget', number)
    .option('--monitoring <seconds>', 'monitoring window per stage', number)
    .option('--json', 'print the state document the gateway answers')
    .action(async (o: Record<string, string | number | boolean | undefined>) => {
      const budget = Object.fromEntries(
        Object.entries({ max_iterations: o.maxIterations, max_restarts: o.maxRestarts, max_wall_seconds: o.maxWallSeconds }).filter(([, v]) => v !== undefined),
      );
      const request = {
        instance_id: o.instance,
        instance_type: o.engine,
        ...(o.target !== undefined ? { target_health: o.target } : {}),
        ...(o.approval !== undefined ? { approval: o.approval } : {}),
        ...(o.monitoring !== undefined ? { monitoring_duration_seconds: o.monitoring } : {}),
        budget,
      } as TuningRequestInput;
      const { raw, value } = await gateway().startTuning(request);
      io.out(o.json ? `${JSON.stringify(raw, null, 2)}\n` : `${value.tuning_id}\n`);
    });

  tune
    .command('status')
    .description("show a tuning run's state and decision log")
    .argument('<id>', 'the tuning id')
    .option('--json', 'print the state document the gateway answers')
    .action(async (id: string, o: { json?: boolean }) => {
      const { raw, value } = await gateway().getTuning(id);
      io.out(o.json ? `${JSON.stringify(raw, null, 2)}\n` : formatTuning(value));
    });

  tune
    .command('stop')
    .description('stop a tuning run after its current iteration, leaving the best configuration found in place')
    .argument('<id>', 'the tuning id')
    .option('--by <name>', 'who stops it')
    .action(async (id: string, o: { by?: string }) => {
      const { value } = await gateway().stopTuning(id, o.by ? { stopped_by: o.by } : {});
      io.out(formatTuning(value));
    });

  tune
    .command('watch')
    .description('follow a tuning run: one line per iteration, until it ends')
    .argument('<id>', 'the tuning id')
    .option('--interval <seconds>', 'poll interval', number, 2)
    .action(async (id: string, o: { interval: number }) => {
      let shown = 0;
      let header = false;
      // The wait the header or an earlier line already showed: each new one is shown once, when it begins.
      let waitShown: string | null = null;
      for (;;) {
        const { value } = await gateway().getTuning(id);
        if (!header) io.out(formatTuning({ ...value, decision_log: [] }));
        for (const e of value.decision_log.slice(shown)) io.out(`  ${describeEntry(e)}  [${e.rollout_id}]\n`);
        shown = value.decision_log.length;
        const waiting = value.awaiting_approval;
        if (waiting && waiting.rollout_id !== waitShown && header) io.out(`  ${describeAwaitingApproval(waiting)}\n`);
        waitShown = waiting?.rollout_id ?? null;
        header = true;
        if (value.status === 'completed' || value.status === 'failed') {
          io.out(`${value.status}: ${value.stop_reason ?? ''}\n`);
          if (value.capacity_verdict) io.out(`${value.capacity_verdict.argument}\n`);
          if (value.status === 'failed') throw new CliExit(EXIT.notCompleted);
          return;
        }
        await deps.sleep(o.interval * 1000);
      }
    });
  return tune;
}

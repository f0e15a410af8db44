/** `servetune status ID`: a rollout's current state. */
import type { Command } from 'commander';
import { defaultGatewayDeps, GatewayClient, type GatewayDeps } from './gateway';
import type { CliIO } from './io';
import { formatState, formatSummary } from './rolloutView';

export function registerStatus(program: Command, io: CliIO, deps: GatewayDeps = defaultGatewayDeps): Command {
  return program
    .command('status')
    .description("show a rollout's current state: status, analysis, plan, stages, result")
    .argument('<id>', 'the rollout id (workflow_id)')
    .option('--json', 'print the state document the gateway answers (its last summary, `live: false`, when no worker answered)')
    .action(async (id: string, options: { json?: boolean }) => {
      const { raw, value } = await GatewayClient.fromEnv(deps.env, deps.timeoutMs).get(id);
      io.out(options.json ? `${JSON.stringify(raw, null, 2)}\n` : value.live ? formatState(value) : formatSummary(value));
    });
}

/** `servetune promote ID`: let a rollout with `auto_rollout: false` go on to its next stage. */
import type { Command } from 'commander';
import { defaultActor } from './actor';
import { defaultGatewayDeps, GatewayClient, type GatewayDeps } from './gateway';
import type { CliIO } from './io';

export function registerPromote(program: Command, io: CliIO, deps: GatewayDeps = defaultGatewayDeps): Command {
  return program
    .command('promote')
    .description('move a rollout that waits for promotion (started with --no-auto-rollout) on to its next stage')
    .argument('<id>', 'the rollout id (workflow_id)')
    .option('--by <name>', 'who promotes (default: $USER, else the OS account; with tokens, the token subject is recorded)')
    .option('--json', 'print the state the gateway answers, as JSON')
    .action(async (id: string, options: { by?: string; json?: boolean }) => {
      const { raw, value: s } = await GatewayClient.fromEnv(deps.env, deps.timeoutMs).promote(id, { promoted_by: options.by ?? defaultActor(deps.env) });
      io.out(options.json ? `${JSON.stringify(raw, null, 2)}\n` : `Promoted ${s.workflow_id}: now ${s.status} (${s.current_step}${s.current_stage ? `, stage ${s.current_stage}` : ''})\n`);
    });
}

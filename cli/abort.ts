/** `servetune abort ID`: stop a rollout now; whatever it changed is rolled back. */
import type { Command } from 'commander';
import { defaultActor } from './actor';
import { defaultGatewayDeps, GatewayClient, type GatewayDeps } from './gateway';
import type { CliIO } from './io';

export function registerAbort(program: Command, io: CliIO, deps: GatewayDeps = defaultGatewayDeps): Command {
  return program
    .command('abort')
    .description('stop a rollout in progress; the replicas it changed are put back on their previous config')
    .argument('<id>', 'the rollout id (workflow_id)')
    .option('--reason <text>', 'why, recorded with the abort')
    .option('--by <name>', 'who aborts (default: $USER, else the OS account; with tokens, the token subject is recorded)')
    .option('--json', 'print the state the gateway answers, as JSON')
    .action(async (id: string, options: { reason?: string; by?: string; json?: boolean }) => {
      const { raw, value: s } = await GatewayClient.fromEnv(deps.env, deps.timeoutMs).abort(id, {
        aborted_by: options.by ?? defaultActor(deps.env),
        ...(options.reason !== undefined ? { reason: options.reason } : {}),
      });
      io.out(options.json ? `${JSON.stringify(raw, null, 2)}\n` : `Abort of ${s.workflow_id} accepted: now ${s.status} (${s.current_step})\n`);
    });
}

/** `servetune reject ID`: reject a rollout that is waiting for approval; nothing is changed. */
import type { Command } from 'commander';
import { defaultActor } from './actor';
import { defaultGatewayDeps, GatewayClient, type GatewayDeps } from './gateway';
import type { CliIO } from './io';

export function registerReject(program: Command, io: CliIO, deps: GatewayDeps = defaultGatewayDeps): Command {
  return program
    .command('reject')
    .description('reject a rollout that is awaiting approval; it ends without changing anything')
    .argument('<id>', 'the rollout id (workflow_id)')
    .option('--reason <text>', 'why, recorded with the rejection')
    .option('--by <name>', 'who rejects (default: $USER, else the OS account; with tokens, the token subject is recorded)')
    .option('--json', 'print the state the gateway answers, as JSON')
    .action(async (id: string, options: { reason?: string; by?: string; json?: boolean }) => {
      const { raw, value: s } = await GatewayClient.fromEnv(deps.env, deps.timeoutMs).reject(id, {
        rejected_by: options.by ?? defaultActor(deps.env),
        ...(options.reason !== undefined ? { reason: options.reason } : {}),
      });
      io.out(options.json ? `${JSON.stringify(raw, null, 2)}\n` : `Rejected ${s.workflow_id} as ${s.rejected_by ?? 'anonymous'}: now ${s.status}\n`);
    });
}

/** `servetune approve ID`: approve a rollout that is waiting for approval. */
import type { Command } from 'commander';
import { defaultGatewayDeps, GatewayClient, type GatewayDeps } from './gateway';
import { defaultActor } from './actor';
import type { CliIO } from './io';

export function registerApprove(program: Command, io: CliIO, deps: GatewayDeps = defaultGatewayDeps): Command {
  return program
    .command('approve')
    .description('approve a rollout that is awaiting approval; it starts rolling out')
    .argument('<id>', 'the rollout id (workflow_id)')
    .option('--comment <text>', 'a comment recorded with the approval')
    .option('--by <name>', 'who approves (default: $USER, else the OS account; with tokens, the token subject is recorded)')
    .option('--json', 'print the state the gateway answers, as JSON')
    .action(async (id: string, options: { comment?: string; by?: string; json?: boolean }) => {
      const { raw, value: s } = await GatewayClient.fromEnv(deps.env, deps.timeoutMs).approve(id, {
        approved_by: options.by ?? defaultActor(deps.env),
        ...(options.comment !== undefined ? { comment: options.comment } : {}),
      });
      io.out(options.json ? `${JSON.stringify(raw, null, 2)}\n` : `Approved ${s.workflow_id} as ${s.approved_by ?? 'anonymous'}: now ${s.status} (${s.current_step})\n`);
    });
}

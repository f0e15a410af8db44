/** `servetune approve ID`: approve a rollout that is waiting for approval. */
import type { Command } from 'commander';
import { defaultGatewayDeps, GatewayClient, type GatewayDeps } from './gateway';
import type { CliIO } from './io';

/** Who acts when `--by` is not given: the login name, else the gateway's "anonymous". With tokens, the gateway records the token's subject anyway. */
export function defaultActor(env: NodeJS.ProcessEnv): string | undefined {
  return env.USER?.trim() || env.LOGNAME?.trim() || env.USERNAME?.trim() || undefined;
}

export function registerApprove(program: Command, io: CliIO, deps: GatewayDeps = defaultGatewayDeps): Command {
  return program
    .command('approve')
    .description('approve a rollout that is awaiting approval; it starts rolling out')
    .argument('<id>', 'the rollout id (workflow_id)')
    .option('--comment <text>', 'a comment recorded with the approval')
    .option('--by <name>', 'who approves (default: $USER; with tokens, the token subject is recorded)')
    .option('--json', 'print the state the gateway answers, as JSON')
    .action(async (id: string, options: { comment?: string; by?: string; json?: boolean }) => {
      const approved_by = options.by ?? defaultActor(deps.env);
      const { raw, value: s } = await GatewayClient.fromEnv(deps.env, deps.timeoutMs).approve(id, {
        ...(approved_by !== undefined ? { approved_by } : {}),
        ...(options.comment !== undefined ? { comment: options.comment } : {}),
      });
      io.out(options.json ? `${JSON.stringify(raw, null, 2)}\n` : `Approved ${s.workflow_id} as ${s.approved_by ?? 'anonymous'}: now ${s.status} (${s.current_step})\n`);
    });
}

/** `servetune list`: rollouts, newest first, optionally of one deployment or in one status. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { WorkflowStatusSchema, type WorkflowStatus } from '../models';
import { defaultGatewayDeps, GatewayClient, type GatewayDeps } from './gateway';
import type { CliIO } from './io';
import { formatList } from './rolloutView';

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new InvalidArgumentError('expected a whole number from 1 to 200.');
  return n;
}

export function registerList(program: Command, io: CliIO, deps: GatewayDeps = defaultGatewayDeps): Command {
  return program
    .command('list')
    .description('list rollouts, newest first')
    .option('--instance <id>', 'only rollouts of this deployment')
    .addOption(new Option('--status <status>', 'only rollouts in this status').choices(WorkflowStatusSchema.options))
    .option('--limit <n>', 'at most n rollouts (gateway default 50)', parseLimit)
    .option('--json', 'print {"workflows": [...]} as the gateway answers it')
    .action(async (options: { instance?: string; status?: WorkflowStatus; limit?: number; json?: boolean }) => {
      const { raw, value } = await GatewayClient.fromEnv(deps.env, deps.timeoutMs).list({ instance_id: options.instance, status: options.status, limit: options.limit });
      io.out(options.json ? `${JSON.stringify(raw, null, 2)}\n` : formatList(value.workflows));
    });
}

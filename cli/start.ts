/** `servetune start`: validate a rollout request locally, then start it through the gateway. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { EngineTypeSchema, RolloutRequestSchema, type EngineType, type RolloutRequestInput } from '../models';
import { defaultGatewayDeps, GatewayClient, type GatewayDeps } from './gateway';
import { CliError, EXIT, type CliIO } from './io';

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number.');
  return n;
}

function parseNumberList(value: string): number[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '' || !Number.isFinite(Number(s)))) throw new InvalidArgumentError('expected comma-separated numbers, e.g. 10,50,100.');
  return items.map(Number);
}

function parseList(value: string): string[] {
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new InvalidArgumentError('expected comma-separated addresses, e.g. 10.0.0.7:8000,10.0.0.8:8000.');
  return items;
}

/** The command-line option that sets each request field, for error messages. */
const OPTION_OF: Record<string, string> = {
  instance_id: '--instance',
  instance_type: '--engine',
  requires_approval: '--approval',
  auto_rollout: '--no-auto-rollout',
  monitoring_duration_seconds: '--window',
  health_threshold: '--threshold',
  stages: '--stages',
  replicas: '--replicas',
  require_improvement: '--no-require-improvement',
};

interface StartOptions {
  instance: string;
  engine: EngineType;
  approval?: boolean;
  autoRollout: boolean;
  requireImprovement?: boolean;
  window?: number;
  threshold?: number;
  stages?: number[];
  replicas?: string[];
  json?: boolean;
}

/** The request body the options describe: only what was given, so the gateway's defaults apply to the rest. */
export function requestFromOptions(o: StartOptions): RolloutRequestInput {
  const request: RolloutRequestInput = { instance_id: o.instance, instance_type: o.engine };
  if (o.approval) request.requires_approval = true;
  if (o.autoRollout === false) request.auto_rollout = false;
  if (o.requireImprovement === false) request.require_improvement = false;
  if (o.window !== undefined) request.monitoring_duration_seconds = o.window;
  if (o.threshold !== undefined) request.health_threshold = o.threshold;
  if (o.stages !== undefined) request.stages = o.stages;
  if (o.replicas !== undefined) request.replicas = o.replicas;
  // The gateway validates with the same schema; checking here names the option instead of the field.
  const parsed = RolloutRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue.path[0] ?? '');
    throw new CliError(`${OPTION_OF[field] ?? field}: ${issue.message}`, EXIT.usage);
  }
  return request;
}

export function registerStart(program: Command, io: CliIO, deps: GatewayDeps = defaultGatewayDeps): Command {
  return program
    .command('start')
    .description('start a staged rollout of a deployment through the gateway (SERVETUNE_URL)')
    .addOption(new Option('--instance <id>', 'the deployment: host:port or URL of its endpoint').makeOptionMandatory())
    .addOption(new Option('--engine <engine>', 'inference engine of the deployment').choices(EngineTypeSchema.options).makeOptionMandatory())
    .option('--approval', 'wait for an approval (servetune approve ID) before changing anything')
    .option('--no-auto-rollout', 'after each passed stage, wait for a promote before the next')
    .option('--no-require-improvement', 'keep a change that passed its gates even when it did not improve what the plan targeted')
    .option('--window <seconds>', 'monitoring window per stage, in seconds (gateway default 300)', parseNumber)
    .option('--threshold <x>', 'a stage passes when its health is at least x times the health before it, x in (0, 1] (default 0.9)', parseNumber)
    .option('--stages <list>', 'increasing percentages ending at 100 (default 10,50,100)', parseNumberList)
    .option('--replicas <list>', 'replica addresses, comma-separated (default: discovered from the deployment)', parseList)
    .option('--json', 'print the state the gateway answers, as JSON')
    .addHelpText(
      'after',
      `
Examples:
  servetune start --instance localhost:8000 --engine vllm --window 10
  servetune start --instance localhost:8000 --engine vllm --approval --stages 25,100 --json

Environment: SERVETUNE_URL (default http://127.0.0.1:8002), SERVETUNE_TOKEN (bearer token, when the gateway has tokens).`,
    )
    .action(async (options: StartOptions) => {
      const request = requestFromOptions(options);
      const client = GatewayClient.fromEnv(deps.env, deps.timeoutMs);
      const { raw, value: s } = await client.start(request);
      if (options.json) return io.out(`${JSON.stringify(raw, null, 2)}\n`);
      io.out(
        [
          `Started ${s.workflow_id} for ${s.instance_id} (${s.instance_type}): ${s.status}`,
          `  stages ${s.stages.map((p) => `${p}%`).join(' -> ')}, ${s.monitoring_duration_seconds} s window each, health threshold ${s.health_threshold}` +
            `${s.requires_approval ? ', waits for approval' : ''}${s.auto_rollout ? '' : ', waits for a promote after each stage'}`,
          `  follow it: servetune watch ${s.workflow_id}`,
        ].join('\n') + '\n',
      );
    });
}

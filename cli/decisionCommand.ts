/**
 * `approve`, `reject`, `promote` and `abort`: one shape of command each. It sends one decision to the
 * gateway, as `--by` (else the login name) with an optional note, and prints the state the gateway
 * answers (or, with --json, the answer itself).
 */
import type { Command } from 'commander';
import type { WorkflowState } from '../models';
import { defaultActor } from './actor';
import { defaultGatewayDeps, GatewayClient, type Answer, type GatewayDeps } from './gateway';
import type { CliIO } from './io';

type Decision = 'approve' | 'reject' | 'promote' | 'abort';

export interface DecisionCommand {
  decision: Decision;
  description: string;
  /** The body field that names who decides, e.g. `approved_by`. */
  actorField: string;
  /** A free-text option and the body field it fills (`--comment` → `comment`). */
  note?: { option: string; field: string; help: string };
  /** The line printed without --json. */
  summary: (s: WorkflowState) => string;
}

const ACTOR_HELP = '(default: $USER, else the OS account; with tokens, the token subject is recorded)';

export function registerDecision(program: Command, io: CliIO, spec: DecisionCommand, deps: GatewayDeps = defaultGatewayDeps): Command {
  const command = program
    .command(spec.decision)
    .description(spec.description)
    .argument('<id>', 'the rollout id (workflow_id)')
    .option('--by <name>', `who ${spec.decision}s ${ACTOR_HELP}`)
    .option('--json', 'print the state the gateway answers, as JSON');
  if (spec.note) command.option(`--${spec.note.option} <text>`, spec.note.help);
  return command.action(async (id: string, options: Record<string, string | boolean | undefined>) => {
    // A blank --by (`--by "$USER"` with USER unset) is not a name: the default applies, never an empty actor.
    const by = typeof options.by === 'string' && options.by.trim() !== '' ? options.by.trim() : defaultActor(deps.env);
    const body: Record<string, string> = { [spec.actorField]: by };
    const note = spec.note ? options[spec.note.option] : undefined;
    if (spec.note && typeof note === 'string') body[spec.note.field] = note;
    const client = GatewayClient.fromEnv(deps.env, deps.timeoutMs);
    const { raw, value }: Answer<WorkflowState> = await client.decide(id, spec.decision, body);
    io.out(options.json ? `${JSON.stringify(raw, null, 2)}\n` : `${spec.summary(value)}\n`);
  });
}

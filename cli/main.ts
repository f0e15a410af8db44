/**
 * The `servetune` command line. Each subcommand lives in its own file and registers itself on the
 * program: `analyze` works offline; `start`, `status`, `list`, `approve`, `reject`, `promote`, `abort` and
 * `watch` talk to the gateway (cli/gateway.ts: SERVETUNE_URL, SERVETUNE_TOKEN); `release-lease` talks to
 * replicas' agents. `run` never throws and never prints a
 * stack trace: user errors are one line on stderr with exit code 1 (bad input, gateway error) or 2 (bad
 * command line); `watch` exits 3 when the rollout ends other than completed.
 *
 * Entry points: `bin/servetune.js` (installed as `servetune`), or `tsx cli/main.ts …`.
 */
import { Command, CommanderError } from 'commander';
import { version } from '../package.json';
import { registerAgent } from './agent';
import { registerAnalyze } from './analyze';
import { registerDecisions } from './decisions';
import { defaultGatewayDeps, type GatewayDeps } from './gateway';
import { CliError, CliExit, EXIT, oneLine, processIO, type CliIO } from './io';
import { registerList } from './list';
import { registerReleaseLease } from './releaseLease';
import { registerStart } from './start';
import { registerStatus } from './status';
import { registerTune } from './tune';
import { registerWatch } from './watch';

export function buildProgram(io: CliIO = processIO, gateway: GatewayDeps = defaultGatewayDeps): Command {
  const program = new Command('servetune')
    .description('servetune: find inference-engine bottlenecks and tune engine flags with staged, reversible rollouts')
    .version(version, '-V, --version', 'print the servetune version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showSuggestionAfterError(true);
  registerAnalyze(program, io);
  registerStart(program, io, gateway);
  registerStatus(program, io, gateway);
  registerList(program, io, gateway);
  registerDecisions(program, io, gateway);
  registerWatch(program, io, gateway);
  registerTune(program, io, gateway);
  registerAgent(program, io);
  registerReleaseLease(program, io);
  return program;
}

/** Runs the command line `argv` (as `process.argv`: node, script, args…) and returns the exit code. */
export async function run(argv: readonly string[], io: CliIO = processIO, gateway: GatewayDeps = defaultGatewayDeps): Promise<number> {
  const program = buildProgram(io, gateway);
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help / version text).
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof CliExit) return e.exitCode;
    if (e instanceof CliError) {
      io.err(`servetune: ${oneLine(e.message)}\n`);
      return e.exitCode;
    }
    const message = typeof (e as { message?: unknown })?.message === 'string' ? (e as Error).message : String(e);
    io.err(`servetune: unexpected error: ${oneLine(message)}\n`);
    return EXIT.failure;
  }
}

if (require.main === module) {
  void run(process.argv).then((code) => {
    process.exitCode = code;
  });
}

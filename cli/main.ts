/**
 * The `servetune` command line. Each subcommand lives in its own file and registers itself on the
 * program (`registerAnalyze`); later ones (start, status, list, approve, reject, watch) follow
 * the same shape. `run` never throws and never prints a stack trace: user errors are one line on
 * stderr with exit code 1 (bad input) or 2 (bad command line).
 *
 * Entry points: `bin/servetune.js` (installed as `servetune`), or `tsx cli/main.ts …`.
 */
import { Command, CommanderError } from 'commander';
import { registerAnalyze } from './analyze';
import { CliError, EXIT, oneLine, processIO, type CliIO } from './io';

export function buildProgram(io: CliIO = processIO): Command {
  const program = new Command('servetune')
    .description('servetune: find inference-engine bottlenecks and tune engine flags with staged, reversible rollouts')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showSuggestionAfterError(true);
  registerAnalyze(program, io);
  return program;
}

/** Runs the command line `argv` (as `process.argv`: node, script, args…) and returns the exit code. */
export async function run(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed its one-line message (or the help / version text).
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
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

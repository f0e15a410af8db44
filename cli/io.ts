/** What a command writes to, so tests can capture it; `processIO` is the real terminal. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

export const processIO: CliIO = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Exit codes shared by every subcommand. */
export const EXIT = {
  ok: 0,
  /** The input could not be read or used: missing file, unreachable replica, malformed page. */
  failure: 1,
  /** The command line itself is wrong: unknown option, missing or conflicting arguments. */
  usage: 2,
  /** `watch`: the rollout ended, but not `completed` (rejected, rolled_back or failed). */
  notCompleted: 3,
} as const;

/**
 * An error meant for the user: `run` prints its message as one line on stderr (no stack trace)
 * and exits with `exitCode`.
 */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** One line, whatever the error: the message with newlines folded. */
export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/** Not an error: ends the command with `exitCode` and prints nothing more (`watch` of a rollout that rolled back). */
export class CliExit extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CliExit';
    this.exitCode = exitCode;
  }
}

/**
 * `servetune watch ID`: follow a rollout until it ends. On a terminal the live view (rolloutView's
 * `renderWatch`) is re-drawn in place every poll; otherwise one line is appended per state change;
 * with `--json`, one JSON state per line per change. Exit code 0 when the rollout completes,
 * 3 when it ends otherwise (rejected, rolled_back, failed), 1 when the gateway fails.
 */
import { Command, InvalidArgumentError } from 'commander';
import { type RolloutRead } from '../models';
import { defaultGatewayDeps, GatewayClient, GatewayError, type GatewayDeps } from './gateway';
import { CliExit, EXIT, type CliIO } from './io';
import { formatSummary, renderWatch, renderWatchLine } from './rolloutView';
import { TERMINAL_STATUSES } from '../contract';

/** Consecutive failed polls (gateway down, 5xx) tolerated before giving up. */
export const MAX_POLL_FAILURES = 10;

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Screen rows `text` takes on a terminal `columns` wide (long lines wrap). */
export function screenRows(text: string, columns: number | undefined): number {
  const lines = text.replace(/\n$/, '').split('\n');
  const width = columns && columns > 0 ? columns : Infinity;
  return lines.reduce((n, line) => n + Math.max(1, Math.ceil(line.replace(ANSI, '').length / width)), 0);
}

/** Moves the cursor to the start of the previous view and clears from there down (CR, cursor up, erase below). */
export const eraseRows = (rows: number) => (rows > 0 ? `\r\x1b[${rows}A\x1b[0J` : '');

export interface WatchOptions {
  json: boolean;
  intervalMs: number;
}

/** Polls until the rollout ends; returns the exit code. */
export async function runWatch(client: GatewayClient, id: string, opts: WatchOptions, io: CliIO, deps: GatewayDeps): Promise<number> {
  const inPlace = deps.terminal().isTTY && !opts.json;
  let lastBody: string | undefined;
  let rows = 0;
  let failures = 0;
  for (;;) {
    let state: RolloutRead;
    let raw: unknown;
    try {
      ({ raw, value: state } = await client.get(id));
      failures = 0;
    } catch (err) {
      // An answer the gateway means (unknown id, no access) ends the watch; an outage is waited out.
      const transient = !(err instanceof GatewayError) || err.status === undefined || err.status >= 500;
      if (!transient || ++failures > MAX_POLL_FAILURES) throw err;
      await deps.sleep(opts.intervalMs);
      continue;
    }
    const body = JSON.stringify(raw);
    const changed = body !== lastBody;
    lastBody = body;
    if (opts.json) {
      if (changed) io.out(`${body}\n`);
    } else if (!state.live) {
      // No live state (no worker answered): the last summary, once per change.
      if (changed) io.out(eraseRows(rows) + formatSummary(state));
      rows = 0;
    } else if (inPlace) {
      // Every poll: the time left in the window moves even when the state does not.
      const view = renderWatch(state, deps.now(), { color: true });
      io.out(eraseRows(rows) + view);
      rows = screenRows(view, deps.terminal().columns);
    } else if (changed) {
      io.out(renderWatchLine(state, deps.now()));
    }
    if (TERMINAL_STATUSES.includes(state.status)) return state.status === 'completed' ? EXIT.ok : EXIT.notCompleted;
    await deps.sleep(opts.intervalMs);
  }
}

function parseInterval(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0.1 || n > 3600) throw new InvalidArgumentError('expected seconds from 0.1 to 3600.');
  return n;
}

export function registerWatch(program: Command, io: CliIO, deps: GatewayDeps = defaultGatewayDeps): Command {
  return program
    .command('watch')
    .description('follow a rollout live until it ends: stage progress, current and baseline health, time left in the window, last decision')
    .argument('<id>', 'the rollout id (workflow_id)')
    .option('--interval <seconds>', 'seconds between polls of the gateway', parseInterval, 1)
    .option('--json', 'print the state as one JSON line each time it changes, until the rollout ends')
    .addHelpText(
      'after',
      `
On a terminal the view is redrawn in place; otherwise one line is appended per change.
Exit codes: 0 the rollout completed; 3 it ended rejected, rolled_back or failed; 1 gateway error (unknown id, unreachable).`,
    )
    .action(async (id: string, options: { interval: number; json?: boolean }) => {
      const client = GatewayClient.fromEnv(deps.env, deps.timeoutMs);
      const code = await runWatch(client, id, { json: options.json === true, intervalMs: options.interval * 1000 }, io, deps);
      if (code !== EXIT.ok) throw new CliExit(code);
    });
}

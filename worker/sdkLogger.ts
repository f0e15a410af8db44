/**
 * The Temporal SDK's Runtime logger, forwarded to pino: workflow `log` calls, activity context logs,
 * the worker's lifecycle messages and (with log forwarding on) the Rust core's, all as the same JSON
 * lines as the rest of the process, with the SDK's camelCase ids renamed to `workflow_id`, `run_id`, ...
 */
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import { LogTimestamp } from '@temporalio/worker';
import type { Logger } from 'pino';

const RANK: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** SDK attribute → our field; attributes not listed keep their name, `null` drops them. */
const RENAME: Record<string, string | null> = {
  workflowId: 'workflow_id',
  runId: 'run_id',
  workflowRunId: 'run_id',
  workflowType: 'workflow_type',
  activityType: 'activity_type',
  activityId: 'activity_id',
  taskQueue: 'task_queue',
  sdkComponent: 'sdk_component',
  taskToken: null, // an opaque base64 blob per activity task: noise in logs
};

export function parseSdkLogLevel(value: string | undefined, fallback: LogLevel): LogLevel {
  const v = (value ?? '').toUpperCase();
  return v in RANK ? (v as LogLevel) : fallback;
}

export function renameSdkFields(meta: LogMetadata | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    const to = key in RENAME ? RENAME[key] : key;
    if (to === null) continue;
    // pino serializes `err` as an error; the SDK calls it `error` or `failure`.
    out[to === 'error' || to === 'failure' ? 'err' : to] = value;
  }
  return out;
}

export interface PinoSdkLoggerOptions {
  /**
   * Least level forwarded for the SDK's own messages (worker lifecycle, bundling, core); messages
   * from workflow and activity code are forwarded at any level pino accepts.
   */
  sdkLevel?: LogLevel;
}

export class PinoSdkLogger implements SdkLogger {
  private readonly sdkLevel: LogLevel;

  constructor(
    private readonly base: Logger,
    opts: PinoSdkLoggerOptions = {},
  ) {
    this.sdkLevel = opts.sdkLevel ?? 'WARN';
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const { [LogTimestamp]: _timestamp, ...rest } = (meta ?? {}) as LogMetadata;
    const component = rest.sdkComponent;
    const fromUserCode = component === 'workflow' || component === 'activity';
    if (!fromUserCode && RANK[level] < RANK[this.sdkLevel]) return;
    this.base[PINO_LEVEL[level] ?? 'info'](renameSdkFields(rest), message);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

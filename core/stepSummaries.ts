/**
 * One-line summaries of a rollout's activities and timers, which the Temporal Web UI shows on each
 * event of the timeline instead of a bare activity type. Pure, so their wording is tested in one place.
 */
import type { ReplicaRange } from './fleetRef';

/** Where a stage stands among the rollout's: `stage 2/3 (50%)`. */
export interface StagePosition {
  label: string;
  /** 1-based. */
  number: number;
  count: number;
}

export function stageName(p: StagePosition): string {
  return `stage ${p.number}/${p.count} (${p.label})`;
}

/** `replica 3` or `replicas 2–5`, 1-based as an operator counts them, with the fleet's size. */
export function replicasText(range: ReplicaRange, fleetSize: number): string {
  const count = range.to - range.from;
  const which = count === 1 ? `replica ${range.from + 1}` : `replicas ${range.from + 1}–${range.to}`;
  return `${which} of ${fleetSize}`;
}

/** Whole seconds as they are, fractions to one decimal: `7.5 s`, `60 s`. */
function secondsText(seconds: number): string {
  return `${Number(seconds.toFixed(1))} s`;
}

/** The UI's guidance for a summary: one line of at most 200 bytes (UTF-8). */
export const MAX_SUMMARY_BYTES = 200;

function utf8Bytes(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** `text` on one line, cut to MAX_SUMMARY_BYTES with an ellipsis when longer (a deployment address may be 512 characters). */
export function fitSummary(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ');
  const chars = [...line];
  if (chars.reduce((n, ch) => n + utf8Bytes(ch), 0) <= MAX_SUMMARY_BYTES) return line;
  let out = '';
  let bytes = utf8Bytes('…');
  for (const ch of chars) {
    if (bytes + utf8Bytes(ch) > MAX_SUMMARY_BYTES) break;
    bytes += utf8Bytes(ch);
    out += ch;
  }
  return `${out}…`;
}

const builders = {
  discover: (deployment: string) => `discover the replicas of ${deployment}`,
  readConfigs: (fleetSize: number) => `read the engine config of ${fleetSize} replicas`,
  baselineSample: (which: 'start' | 'end', fleetSize: number) => `baseline sample (${which}) of ${fleetSize} replicas`,
  baselineWindow: (seconds: number) => `baseline window: ${secondsText(seconds)}`,
  analyze: () => 'analyze the baseline: health score and bottlenecks',
  plan: (engine: string) => `plan ${engine} engine-flag changes`,
  approvalWait: (seconds: number) => `wait for approval (times out after ${secondsText(seconds)})`,
  push: (revision: string, range: ReplicaRange, fleetSize: number, stage: StagePosition) =>
    `push revision ${revision} to ${replicasText(range, fleetSize)} (${stageName(stage)})`,
  windowStartSample: (group: 'canary' | 'baseline', range: ReplicaRange, fleetSize: number, stage: StagePosition) =>
    `${stageName(stage)}: ${group} sample at window start, ${replicasText(range, fleetSize)}`,
  monitoringTick: (stage: StagePosition, seconds: number, tick: number, ticks: number) =>
    `monitoring window ${stageName(stage)}: ${secondsText(seconds)} until sample ${tick}/${ticks}`,
  measure: (stage: StagePosition, tick: number, ticks: number) => `${stageName(stage)}: measure and judge, sample ${tick}/${ticks}`,
  promotionWait: (stage: StagePosition, seconds: number) => `wait for promotion after ${stageName(stage)} (times out after ${secondsText(seconds)})`,
  rollback: (replicaCount: number) => `roll back ${replicaCount} replica${replicaCount === 1 ? '' : 's'} to the config each had before`,
  releaseLeases: (replicaCount: number) => `release the leases on ${replicaCount} replica${replicaCount === 1 ? '' : 's'}`,
};

type Builders = typeof builders;

/** Every builder above, its result fitted to one summary line. */
export const summaries = Object.fromEntries(
  Object.entries(builders).map(([name, build]) => [name, (...args: never[]) => fitSummary((build as (...a: never[]) => string)(...args))]),
) as Builders;

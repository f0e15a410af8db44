/**
 * Keeping replica lists out of the workflow's history. Every activity input and result is recorded in
 * the history, so a rollout that named its 1,000 replicas in every scrape, push and tick would carry
 * the list dozens of times. Instead the workflow passes a `FleetRef` (how to find the replicas again,
 * and a digest of the list it saw) and index ranges into that list; configs come back run-length
 * encoded, since a fleet usually runs one config.
 */
import type { EngineArgs, ReplicaConfig } from '../models';

export interface FleetRef {
  instance_id: string;
  /** Set only when the request named the replicas: then the list is the request's and is carried. */
  replicas?: string[];
  count: number;
  /** Digest of the ordered list discovered at the start: activities refuse a fleet that changed since. */
  digest: string;
}

/** Replicas `from` (inclusive) to `to` (exclusive) of the fleet's list. */
export interface ReplicaRange {
  from: number;
  to: number;
}

/** Consecutive replicas running the same config, as one entry. */
export interface ConfigRun extends ReplicaConfig, ReplicaRange {}

/** What to put back on some replicas: the compensation's input, grouped by the config they had. */
export interface RestoreGroup {
  revision: string;
  engine_args: EngineArgs;
  addresses: string[];
}

export function rangeSize(range: ReplicaRange): number {
  return Math.max(0, range.to - range.from);
}

/** Configs are equal when their revision and args are; args compare by their JSON (key order from one source). */
export function sameConfig(a: ReplicaConfig, b: ReplicaConfig): boolean {
  return a.revision === b.revision && a.engine === b.engine && JSON.stringify(a.engine_args) === JSON.stringify(b.engine_args);
}

export function toConfigRuns(configs: ReplicaConfig[]): ConfigRun[] {
  const runs: ConfigRun[] = [];
  for (const [i, config] of configs.entries()) {
    const last = runs[runs.length - 1];
    if (last && sameConfig(last, config)) last.to = i + 1;
    else runs.push({ ...config, from: i, to: i + 1 });
  }
  return runs;
}

export function configAt(runs: ConfigRun[], index: number): ReplicaConfig {
  const run = runs.find((r) => index >= r.from && index < r.to);
  if (!run) throw new RangeError(`no config recorded for replica #${index}`);
  return { revision: run.revision, engine: run.engine, engine_args: run.engine_args };
}

/** Replicas to restore, grouped by the config each had before (one group for a uniform fleet). */
export function restoreGroups(targets: { address: string; revision: string; engine_args: EngineArgs }[]): RestoreGroup[] {
  const groups = new Map<string, RestoreGroup>();
  for (const t of targets) {
    const key = `${t.revision}\u0000${JSON.stringify(t.engine_args)}`;
    const group = groups.get(key) ?? { revision: t.revision, engine_args: t.engine_args, addresses: [] };
    group.addresses.push(t.address);
    groups.set(key, group);
  }
  return [...groups.values()];
}

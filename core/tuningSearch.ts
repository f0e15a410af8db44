import type { AnalysisResult, DecisionLogEntry, EngineArgs, EngineType, FlagChange, TuningConstraint } from '../models';
import { planWithSkips, rulesFor } from './planner';
import { halved, moved, searchDimensions, stepBetween, stepLargeEnough, type SearchDimension } from './tuningDimensions';

/**
 * The tuning run's search. The engine's rule base proposes first: its plan for the fleet's current
 * bottlenecks (flags the run has not moved yet), or one of its changes alone when the whole plan is
 * ruled out. Beyond the rules, a
 * coordinate search with memory: per numeric flag, the last observed move (from the decision log)
 * says where to go next. A move that helped is repeated in the same direction with the same step
 * (halved when a full step would pass the bound); one that did not help (reverted, or kept without a
 * gain) is reversed with half the step; a flag never moved tries up, then down, by its first step. A
 * flag is done once its step is below a quarter of the first. Flags whose last move helped go first, then
 * flags to reverse, then flags never moved (a coordinate is followed through before the next). A configuration already tried, or remembered as a constraint,
 * is never proposed again.
 */

/** A score gain below this is noise, not help (health points). */
export const MIN_GAIN = 0.5;

export interface Candidate {
  source: DecisionLogEntry['source'];
  changes: FlagChange[];
  evidence: string;
}

export interface SearchInput {
  engine: EngineType;
  currentArgs: EngineArgs;
  analysis: AnalysisResult;
  log: DecisionLogEntry[];
  constraints: TuningConstraint[];
}

/** One spelling per configuration: flags sorted, unset flags dropped. */
export function configKey(args: EngineArgs): string {
  const entries = Object.entries(args)
    .filter(([, v]) => v !== null && v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

export function applyChanges(args: EngineArgs, changes: FlagChange[]): EngineArgs {
  const next: EngineArgs = { ...args };
  for (const c of changes) next[c.flag] = c.to;
  return next;
}

/** Configurations not to propose: the constraints (a move already tried is refused by `nextCandidate`). */
function ruledOut(input: SearchInput): Set<string> {
  return new Set(input.constraints.map((c) => configKey(c.engine_args)));
}

export function nextCandidate(input: SearchInput): Candidate | null {
  const excluded = ruledOut(input);
  // A move already made, or the undo of one (back to a configuration already measured), is not new.
  const tried = new Set(input.log.flatMap((e) => [moveKey(e.changes), moveKey(e.changes.map((c) => ({ flag: c.flag, from: c.to, to: c.from ?? c.to })))]));
  const allowed = (changes: FlagChange[]) => {
    if (changes.length === 0) return false;
    if (excluded.has(configKey(applyChanges(input.currentArgs, changes)))) return false;
    return !tried.has(moveKey(changes));
  };
  return fromRules(input, allowed) ?? fromSearch(input, allowed);
}

/** A move, spelled the same wherever it appears: the same flags from the same values to the same values. */
function moveKey(changes: FlagChange[]): string {
  return changes.map((c) => `${c.flag}=${String(c.from)}→${String(c.to)}`).join(',');
}

function fromRules(input: SearchInput, allowed: (changes: FlagChange[]) => boolean): Candidate | null {
  const { plan } = planWithSkips({
    engine: input.engine,
    snapshot: input.analysis.metrics,
    bottlenecks: input.analysis.bottlenecks,
    currentArgs: input.currentArgs,
    revision: '',
    facts: input.analysis.engine_facts,
  });
  // The rules propose first steps only: a flag the run has moved before is the search's (rules that
  // answer opposite bottlenecks would otherwise move it back and forth).
  const moved = new Set(input.log.flatMap((e) => e.changes.map((c) => c.flag)));
  const changes = plan.optimizations.filter((o) => !moved.has(o.parameter)).map((o) => ({ flag: o.parameter, from: o.current, to: o.proposed }));
  const why = input.analysis.bottlenecks.map((b) => `${b.kind} (${b.metric} ${round(b.value)} > ${round(b.threshold)})`).join('; ');
  if (allowed(changes)) return { source: 'rules', changes, evidence: `rules for ${why || 'no bottleneck'}` };
  // The whole plan is ruled out: each of its changes alone may not be.
  for (const change of changes) {
    if (allowed([change])) return { source: 'rules', changes: [change], evidence: `rule alone (the full plan is ruled out) for ${why}` };
  }
  return null;
}

interface FlagMemory {
  dim: SearchDimension;
  direction: 1 | -1;
  size: number;
  /** The last move's gain, or null when the flag was never moved. */
  gain: number | null;
  lastHelped: boolean;
}

function memoryOf(dim: SearchDimension, log: DecisionLogEntry[]): FlagMemory {
  for (let i = log.length - 1; i >= 0; i--) {
    const change = log[i].changes.find((c) => c.flag === dim.flag);
    if (!change || typeof change.from !== 'number' || typeof change.to !== 'number') continue;
    const entry = log[i];
    const gain = entry.score_before !== null && entry.score_after !== null ? entry.score_after - entry.score_before : null;
    const helped = entry.verdict === 'kept' && gain !== null && gain >= MIN_GAIN;
    const direction: 1 | -1 = change.to >= change.from ? 1 : -1;
    const size = stepBetween(dim, change.from, change.to) || dim.step;
    return helped
      ? { dim, direction, size, gain, lastHelped: true }
      : { dim, direction: direction === 1 ? -1 : 1, size: halved(dim, size), gain, lastHelped: false };
  }
  return { dim, direction: 1, size: dim.step, gain: null, lastHelped: false };
}

function fromSearch(input: SearchInput, allowed: (changes: FlagChange[]) => boolean): Candidate | null {
  const rules = rulesFor(input.engine);
  const memories = searchDimensions(input.engine).map((dim) => memoryOf(dim, input.log));
  // Finish a flag before the next: one that helped goes on, one that did not is reversed, then untouched flags.
  const rank = (m: FlagMemory) => (m.lastHelped ? 0 : m.gain !== null ? 1 : 2);
  const ordered = [...memories].sort((a, b) => rank(a) - rank(b) || (b.gain ?? 0) - (a.gain ?? 0));
  for (const memory of ordered) {
    const { dim } = memory;
    const reported = input.currentArgs[dim.flag];
    const fallback = rules.find((r) => r.parameter === dim.flag)?.defaultValue;
    const current = typeof reported === 'number' ? reported : typeof fallback === 'number' ? fallback : null;
    // A flag whose value neither the replica nor the engine's documented default gives has no point to step from.
    if (current === null) continue;
    // Nor is a flag that does nothing where the engine runs worth a restart (a rule says so, e.g. vLLM's
    // gpu_memory_utilization once the KV cache size is fixed).
    if (rules.some((r) => r.parameter === dim.flag && (r.noEffect?.(input.analysis.engine_facts ?? {}) ?? null) !== null)) continue;
    // A move that helped goes on only its way (at a bound, the flag rests); a flag never moved may go either way.
    const directions: Array<1 | -1> = memory.gain === null ? [1, -1] : [memory.direction];
    for (let size = memory.size; stepLargeEnough(dim, size); size = halved(dim, size)) {
      for (const direction of directions) {
        const to = moved(dim, current, direction, size);
        if (to === current) continue;
        const change = { flag: dim.flag, from: current, to };
        if (!allowed([change])) continue;
        return { source: 'search', changes: [change], evidence: describeMove(memory, direction, size) };
      }
    }
  }
  return null;
}

function describeMove(memory: FlagMemory, direction: 1 | -1, size: number): string {
  const { dim } = memory;
  const amount = dim.scale === 'linear' ? `${direction === 1 ? '+' : '-'}${round(size)}` : `${direction === 1 ? '×' : '÷'}${round(size)}`;
  if (memory.gain === null) return `search: ${dim.flag} never moved yet; trying ${amount}`;
  const last = memory.lastHelped ? `helped (+${round(memory.gain)})` : `did not help (${round(memory.gain)})`;
  return `search: ${dim.flag}'s last move ${last}; now ${amount}`;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

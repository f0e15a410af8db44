import v8 from 'node:v8';
import vm from 'node:vm';
/** Order statistics and the result row every benchmark returns. */

/** Nearest-rank percentile (p in [0, 100]) of `values`; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const median = (values: readonly number[]) => percentile(values, 50);
export const p99 = (values: readonly number[]) => percentile(values, 99);
export const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
export const mean = (values: readonly number[]) => (values.length ? sum(values) / values.length : NaN);

export const MB = 1024 * 1024;

export interface Row {
  /** What is measured, with its unit. */
  figure: string;
  median: number;
  /** The tail: p99 where there are enough samples, else the worst value (named in `tailLabel`). */
  tail: number;
  tailLabel: 'p99' | 'max' | 'min' | 'p1';
  /** Human-readable target, e.g. "≤ 100 ms"; '' for figures reported without one. */
  target: string;
  /** median / floor median, where there is a floor. */
  ratio?: number;
  /** null: reported, no target. */
  met: boolean | null;
  /** Samples behind the figure, e.g. "200 transitions over 10 rollouts". */
  samples: string;
  /** Decimal places to print. */
  digits?: number;
}

export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return String(n);
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The table as Markdown (the console prints the same text). */
export function renderTable(rows: readonly Row[]): string {
  const header = ['figure', 'median', 'p99 / worst', 'target', 'ratio to floor', 'met?', 'samples'];
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const r of rows) {
    const d = r.digits ?? 1;
    lines.push(
      `| ${[
        r.figure,
        fmt(r.median, d),
        `${fmt(r.tail, d)} (${r.tailLabel})`,
        r.target || '—',
        r.ratio === undefined ? '—' : `${fmt(r.ratio, 2)}×`,
        r.met === null ? '—' : r.met ? 'yes' : '**no**',
        r.samples,
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** Forces a full garbage collection (V8's gc, exposed at run time so no node flag is needed). */
export function gc(): void {
  const g = globalThis as { gc?: () => void };
  if (!g.gc) {
    v8.setFlagsFromString('--expose-gc');
    g.gc = vm.runInNewContext('gc') as () => void;
  }
  g.gc!();
}

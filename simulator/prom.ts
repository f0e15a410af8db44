/**
 * Prometheus text exposition (format 0.0.4) the way Python's prometheus_client writes it, which is
 * what vLLM and SGLang serve: floats in Python repr ("1.0", "0.25", "1.7e+09"), labels sorted by name,
 * histogram samples as buckets, then `_count`, then `_sum`.
 */

export type Labels = Readonly<Record<string, string>>;

/** A float the way Python's repr() prints it. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Object.is(x, -0)) return '-0.0';
  const abs = Math.abs(x);
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) {
    // Python switches to exponent notation with at least two exponent digits.
    return x.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  const s = String(x);
  return Number.isInteger(x) ? `${s}.0` : s;
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k])}"`).join(',')}}`;
}

export function sample(name: string, labels: Labels, value: number): string {
  return `${name}${formatLabels(labels)} ${pyFloat(value)}`;
}

export function familyHeader(name: string, type: 'gauge' | 'counter' | 'histogram', help: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}

/** Histogram family lines: cumulative buckets (made non-decreasing and ≤ count), +Inf = count, `_count`, `_sum`. */
export function histogramLines(
  name: string,
  help: string,
  labels: Labels,
  bounds: readonly number[],
  cumulative: readonly number[],
  count: number,
  sum: number,
): string[] {
  const lines = familyHeader(name, 'histogram', help);
  let prev = 0;
  bounds.forEach((bound, i) => {
    const v = Math.min(count, Math.max(prev, cumulative[i] ?? 0));
    prev = v;
    lines.push(sample(`${name}_bucket`, { ...labels, le: pyFloat(bound) }, v));
  });
  lines.push(sample(`${name}_bucket`, { ...labels, le: '+Inf' }, count));
  lines.push(sample(`${name}_count`, labels, count));
  lines.push(sample(`${name}_sum`, labels, sum));
  return lines;
}

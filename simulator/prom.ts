/**
 * Prometheus text exposition (format 0.0.4) helpers. The vLLM and SGLang pages are written the way
 * Python's prometheus_client writes them (labels sorted by name, sample values via its
 * `floatToGoString`); the TGI page the way Rust's metrics-exporter-prometheus writes it (`le` after the
 * other labels, Rust float formatting, a blank line after every family).
 */

export type Labels = Readonly<Record<string, string>>;

/** A float the way Python's repr() prints it (used for label values such as `le="1.0"`). */
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

/**
 * prometheus_client's `floatToGoString`, which formats every sample value: Python repr, except that
 * positive values with more than six digits before the point switch to Go's exponent form
 * (8128902.0 → "8.128902e+06", as in the SGLang capture).
 */
export function goFloat(x: number): string {
  const s = pyFloat(x);
  const dot = s.indexOf('.');
  if (x > 0 && dot > 6 && !s.includes('e')) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '');
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

/**
 * A float the way Rust's `Display` for f64 prints it (what metrics-exporter-prometheus writes):
 * shortest round-trip digits, never an exponent, no ".0" on integral values ("128", "0.00015000000000000001").
 */
export function rustFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (Object.is(x, -0)) return '-0';
  const s = String(x);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-])(\d+)$/.exec(s);
  if (!m) return s;
  const [, sign, lead, frac = '', expSign, expDigits] = m;
  const digits = lead + frac;
  const exp = Number(expDigits) * (expSign === '-' ? -1 : 1);
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  return intLen >= digits.length
    ? `${sign}${digits}${'0'.repeat(intLen - digits.length)}`
    : `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Labels sorted by name (prometheus_client). */
export function formatLabels(labels: Labels): string {
  return formatLabelsInOrder(labels, Object.keys(labels).sort());
}

/** Labels in the given key order. */
export function formatLabelsInOrder(labels: Labels, keys: readonly string[]): string {
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k])}"`).join(',')}}`;
}

/** One sample line as prometheus_client writes it. */
export function sample(name: string, labels: Labels, value: number): string {
  return `${name}${formatLabels(labels)} ${goFloat(value)}`;
}

export type MetricKind = 'gauge' | 'counter' | 'histogram' | 'summary';

export function familyHeader(name: string, type: MetricKind, help: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}

/** Cumulative bucket counts made non-decreasing and capped at the count. */
export function cumulativeBuckets(cumulative: readonly number[], bounds: readonly number[], count: number): number[] {
  let prev = 0;
  return bounds.map((_, i) => {
    const v = Math.min(count, Math.max(prev, cumulative[i] ?? 0));
    prev = v;
    return v;
  });
}

/**
 * Histogram family lines in prometheus_client's single-process order (vLLM V1): cumulative buckets,
 * +Inf = count, `_count`, `_sum`.
 */
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
  cumulativeBuckets(cumulative, bounds, count).forEach((v, i) => {
    lines.push(sample(`${name}_bucket`, { ...labels, le: pyFloat(bounds[i]) }, v));
  });
  lines.push(sample(`${name}_bucket`, { ...labels, le: '+Inf' }, count));
  lines.push(sample(`${name}_count`, labels, count));
  lines.push(sample(`${name}_sum`, labels, sum));
  return lines;
}

/**
 * Histogram samples in prometheus_client's multiprocess order (SGLang): `_sum`, the cumulative
 * buckets, +Inf = count, then `_count`. No HELP/TYPE lines.
 */
export function multiprocessHistogramSamples(
  name: string,
  labels: Labels,
  bounds: readonly number[],
  cumulative: readonly number[],
  count: number,
  sum: number,
): string[] {
  const lines = [sample(`${name}_sum`, labels, sum)];
  cumulativeBuckets(cumulative, bounds, count).forEach((v, i) => {
    lines.push(sample(`${name}_bucket`, { ...labels, le: pyFloat(bounds[i]) }, v));
  });
  lines.push(sample(`${name}_bucket`, { ...labels, le: '+Inf' }, count));
  lines.push(sample(`${name}_count`, labels, count));
  return lines;
}

/** One sample line as metrics-exporter-prometheus writes it: labels in insertion order, Rust floats. */
export function rustSample(name: string, labels: Labels, value: number): string {
  return `${name}${formatLabelsInOrder(labels, Object.keys(labels))} ${rustFloat(value)}`;
}

/**
 * Histogram samples the way metrics-exporter-prometheus writes them (TGI): buckets with `le` after
 * the other labels and Rust-formatted bounds, +Inf = count, then `_sum` and `_count`.
 */
export function rustHistogramSamples(
  name: string,
  labels: Labels,
  bounds: readonly number[],
  cumulative: readonly number[],
  count: number,
  sum: number,
): string[] {
  const lines = cumulativeBuckets(cumulative, bounds, count).map((v, i) =>
    rustSample(`${name}_bucket`, { ...labels, le: rustFloat(bounds[i]) }, v),
  );
  lines.push(rustSample(`${name}_bucket`, { ...labels, le: '+Inf' }, count));
  lines.push(rustSample(`${name}_sum`, labels, sum));
  lines.push(rustSample(`${name}_count`, labels, count));
  return lines;
}

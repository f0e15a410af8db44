/**
 * Reading simulator pages in tests with the project's own parser (metrics/prometheusText.ts), so the
 * pages are checked against what servetune really parses. Helpers only; not a test file.
 */
import { parsePrometheusText, type MetricFamily, type PromSample } from '../../../metrics/prometheusText';

export interface Page {
  families: MetricFamily[];
  samples: PromSample[];
  /** Family name → TYPE. */
  types: Record<string, string>;
  /** Family name → HELP (families without a HELP line are absent). */
  helps: Record<string, string>;
}

/** Throws (MetricsParseError) on anything that is not valid exposition text. */
export function parsePage(text: string): Page {
  const families = parsePrometheusText(text);
  return {
    families,
    samples: families.flatMap((f) => f.samples),
    types: Object.fromEntries(families.map((f) => [f.name, f.type])),
    helps: Object.fromEntries(families.filter((f) => f.help !== '').map((f) => [f.name, f.help])),
  };
}

const matches = (s: PromSample, labels: Record<string, string>) => Object.entries(labels).every(([k, v]) => s.labels[k] === v);

export function value(page: Page, name: string, labels: Record<string, string> = {}): number {
  const s = page.samples.find((x) => x.name === name && matches(x, labels));
  if (!s) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
  return s.value;
}

export interface Histogram {
  bounds: number[];
  /** `le` as written on the page, +Inf included. */
  les: string[];
  /** Cumulative counts per finite bound, then +Inf. */
  cumulative: number[];
  count: number;
  sum: number;
}

/** Buckets in page order (their `le` must end with +Inf), for the series whose labels include `labels`. */
export function histogram(page: Page, name: string, labels: Record<string, string> = {}): Histogram {
  const buckets = page.samples.filter((s) => s.name === `${name}_bucket` && matches(s, labels));
  if (buckets.length === 0) throw new Error(`no histogram ${name} ${JSON.stringify(labels)}`);
  const les = buckets.map((b) => b.labels.le);
  if (les[les.length - 1] !== '+Inf') throw new Error(`${name}: last bucket is not +Inf`);
  return {
    bounds: les.slice(0, -1).map(Number),
    les,
    cumulative: buckets.map((b) => b.value),
    count: value(page, `${name}_count`, labels),
    sum: value(page, `${name}_sum`, labels),
  };
}

/** Bucket-wise difference of two scrapes of the same histogram (a window). */
export function windowOf(before: Histogram, after: Histogram): Histogram {
  return {
    bounds: after.bounds,
    les: after.les,
    cumulative: after.cumulative.map((v, i) => v - before.cumulative[i]),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

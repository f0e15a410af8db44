/** A small, strict reader of Prometheus text for the simulator tests (not a test file itself). */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Page {
  samples: Sample[];
  types: Record<string, string>;
  helps: Record<string, string>;
}

const SAMPLE_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL_RE = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/g;

function parseValue(raw: string): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (raw === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`bad value: ${raw}`);
  return Number(raw);
}

/** Throws on any line that is not a comment or a well-formed sample. */
export function parsePage(text: string): Page {
  const page: Page = { samples: [], types: {}, helps: {} };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      page.types[name] = type;
      continue;
    }
    if (line.startsWith('# HELP ')) {
      const rest = line.slice(7);
      const sp = rest.indexOf(' ');
      page.helps[rest.slice(0, sp)] = rest.slice(sp + 1);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE_RE.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      let consumed = 0;
      for (const lm of m[2].matchAll(LABEL_RE)) {
        labels[lm[1]] = lm[2];
        consumed += lm[0].length;
      }
      if (consumed !== m[2].length) throw new Error(`bad labels: ${line}`);
    }
    page.samples.push({ name: m[1], labels, value: parseValue(m[3]) });
  }
  return page;
}

export function value(page: Page, name: string, labels: Record<string, string> = {}): number {
  const s = page.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  if (!s) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
  return s.value;
}

export interface Histogram {
  bounds: number[];
  /** Cumulative counts per finite bound, then +Inf. */
  cumulative: number[];
  count: number;
  sum: number;
}

/** Buckets in page order (their `le` must be increasing and end with +Inf). */
export function histogram(page: Page, name: string): Histogram {
  const buckets = page.samples.filter((s) => s.name === `${name}_bucket`);
  if (buckets.length === 0) throw new Error(`no histogram ${name}`);
  const les = buckets.map((b) => (b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)));
  if (les[les.length - 1] !== Infinity) throw new Error(`${name}: last bucket is not +Inf`);
  return {
    bounds: les.slice(0, -1),
    cumulative: buckets.map((b) => b.value),
    count: value(page, `${name}_count`),
    sum: value(page, `${name}_sum`),
  };
}

/** Bucket-wise difference of two scrapes of the same histogram (a window). */
export function windowOf(before: Histogram, after: Histogram): Histogram {
  return {
    bounds: after.bounds,
    cumulative: after.cumulative.map((v, i) => v - before.cumulative[i]),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/**
 * Parser for the Prometheus text exposition format (version 0.0.4), as emitted by Python
 * prometheus_client (vLLM, SGLang), Rust metrics-exporter-prometheus (TGI) and llama.cpp.
 *
 * Strict on syntax (a page that is not exposition text throws `MetricsParseError` with the
 * 1-based line number, so a garbage page is rejected rather than read as zeros), tolerant of
 * ordering: `_sum` before buckets, `le` after other labels, blank lines, comments, samples
 * without TYPE lines, histogram base names ending in `_total`. See metrics/README-parser.md.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PromSample {
  /** Full sample name as written, e.g. `vllm:e2e_request_latency_seconds_bucket`. */
  name: string;
  labels: Record<string, string>;
  /** May be NaN or ±Infinity (the format allows them). */
  value: number;
  /** Optional timestamp in ms since the epoch, as written on the line. */
  timestamp_ms?: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: PromSample[];
}

export class MetricsParseError extends Error {
  readonly line: number;
  readonly lineText: string;
  constructor(message: string, line: number, lineText = '') {
    const shown = lineText.length > 120 ? `${lineText.slice(0, 120)}…` : lineText;
    super(`metrics parse error at line ${line}: ${message}${lineText ? ` (line: ${JSON.stringify(shown)})` : ''}`);
    this.name = 'MetricsParseError';
    this.line = line;
    this.lineText = lineText;
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const METRIC_NAME_PREFIX = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_PREFIX = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^-?\d+$/;
const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** Suffixes a sample name may add to its family name, per family type. */
const SUFFIXES: Record<MetricType, readonly string[]> = {
  counter: ['_total', '_created'],
  gauge: [],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['_sum', '_count', '_created'],
  untyped: [],
};

/**
 * Parses a Prometheus float as Go's strconv.ParseFloat would for exposition values:
 * decimal/exponent notation, `NaN`, `+Inf`, `-Inf`, `Inf` (case-insensitive). Returns
 * `undefined` for anything else (notably the empty string, which `Number()` reads as 0).
 */
export function parsePromFloat(token: string): number | undefined {
  if (DECIMAL.test(token)) return Number(token);
  switch (token.toLowerCase()) {
    case 'nan':
      return NaN;
    case '+inf':
    case 'inf':
    case '+infinity':
    case 'infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
    default:
      return undefined;
  }
}

/** Splits `text` into families, in order of first appearance. Throws `MetricsParseError`. */
export function parsePrometheusText(text: string): MetricFamily[] {
  if (typeof text !== 'string') throw new MetricsParseError('input is not a string', 0);
  const families: MetricFamily[] = [];
  const byName = new Map<string, MetricFamily>();
  const typed = new Set<string>(); // families that have had a TYPE line
  const helped = new Set<string>(); // families that have had a HELP line
  const seriesSeen = new Set<string>();
  let current: MetricFamily | undefined;

  const getOrCreate = (name: string): MetricFamily => {
    let fam = byName.get(name);
    if (!fam) {
      fam = { name, type: 'untyped', help: '', samples: [] };
      byName.set(name, fam);
      families.push(fam);
    }
    return fam;
  };

  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;

    if (line.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (!m) {
        if (/^#[ \t]+(HELP|TYPE)(?:[ \t]*)$/.test(line)) throw new MetricsParseError('HELP/TYPE line without a metric name', lineNo, line);
        continue; // plain comment
      }
      const [, keyword, name, rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new MetricsParseError(`invalid metric name ${JSON.stringify(name)} in ${keyword} line`, lineNo, line);
      const fam = getOrCreate(name);
      if (keyword === 'HELP') {
        if (helped.has(name)) throw new MetricsParseError(`second HELP line for ${name}`, lineNo, line);
        helped.add(name);
        fam.help = unescapeHelp(rest, lineNo, line);
      } else {
        const type = rest.trim();
        if (!TYPES.has(type)) throw new MetricsParseError(`unknown metric type ${JSON.stringify(type)} for ${name}`, lineNo, line);
        if (typed.has(name)) throw new MetricsParseError(`second TYPE line for ${name}`, lineNo, line);
        if (fam.samples.length > 0) throw new MetricsParseError(`TYPE line for ${name} after its samples`, lineNo, line);
        typed.add(name);
        fam.type = type as MetricType;
      }
      current = fam;
      continue;
    }

    const sample = parseSampleLine(line, lineNo);
    const fam = familyFor(sample.name, current, byName) ?? getOrCreate(sample.name);
    if (!belongsTo(sample.name, fam)) throw new MetricsParseError(`sample ${sample.name} does not fit ${fam.type} family ${fam.name}`, lineNo, line);
    validateTypedSample(fam, sample, lineNo, line);
    const key = seriesKey(sample.name, sample.labels);
    if (seriesSeen.has(key)) throw new MetricsParseError(`duplicate series ${sample.name}${formatLabels(sample.labels)}`, lineNo, line);
    seriesSeen.add(key);
    fam.samples.push(sample);
    current = fam;
  }
  return families;
}

/** Families keyed by family name. */
export function familiesByName(families: readonly MetricFamily[]): Map<string, MetricFamily> {
  return new Map(families.map((f) => [f.name, f]));
}

/** All samples keyed by sample name (e.g. `x_bucket`, `x_sum` and `x_count` are separate keys). */
export function samplesByName(families: readonly MetricFamily[]): Map<string, PromSample[]> {
  const out = new Map<string, PromSample[]>();
  for (const fam of families) {
    for (const s of fam.samples) {
      const list = out.get(s.name);
      if (list) list.push(s);
      else out.set(s.name, [s]);
    }
  }
  return out;
}

function belongsTo(sampleName: string, fam: MetricFamily): boolean {
  if (sampleName === fam.name) return fam.type !== 'histogram';
  if (!sampleName.startsWith(fam.name)) return false;
  return SUFFIXES[fam.type].includes(sampleName.slice(fam.name.length));
}

function familyFor(sampleName: string, current: MetricFamily | undefined, byName: Map<string, MetricFamily>): MetricFamily | undefined {
  if (current && belongsTo(sampleName, current)) return current;
  const exact = byName.get(sampleName);
  if (exact && belongsTo(sampleName, exact)) return exact;
  for (const suffix of ['_bucket', '_sum', '_count', '_created', '_total']) {
    if (!sampleName.endsWith(suffix)) continue;
    const fam = byName.get(sampleName.slice(0, -suffix.length));
    if (fam && belongsTo(sampleName, fam)) return fam;
  }
  return undefined;
}

function validateTypedSample(fam: MetricFamily, s: PromSample, lineNo: number, line: string): void {
  if (fam.type === 'histogram' && s.name === `${fam.name}_bucket`) {
    const le = s.labels.le;
    if (le === undefined) throw new MetricsParseError(`histogram bucket without an "le" label`, lineNo, line);
    const bound = parsePromFloat(le);
    if (bound === undefined || Number.isNaN(bound)) throw new MetricsParseError(`invalid "le" value ${JSON.stringify(le)}`, lineNo, line);
  }
  if (fam.type === 'summary' && s.name === fam.name) {
    const q = s.labels.quantile;
    if (q === undefined) throw new MetricsParseError(`summary sample without a "quantile" label`, lineNo, line);
    const v = parsePromFloat(q);
    if (v === undefined || Number.isNaN(v)) throw new MetricsParseError(`invalid "quantile" value ${JSON.stringify(q)}`, lineNo, line);
  }
}

function parseSampleLine(line: string, lineNo: number): PromSample {
  let pos = 0;
  const skipBlank = () => {
    while (pos < line.length && (line[pos] === ' ' || line[pos] === '\t')) pos++;
  };
  skipBlank();
  const nameMatch = METRIC_NAME_PREFIX.exec(line.slice(pos));
  if (!nameMatch) throw new MetricsParseError('expected a metric name', lineNo, line);
  const name = nameMatch[0];
  pos += name.length;
  const afterName = pos;
  skipBlank();

  const labels: Record<string, string> = {};
  if (line[pos] !== '{') pos = afterName;
  else {
    pos++;
    for (;;) {
      skipBlank();
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const ln = LABEL_NAME_PREFIX.exec(line.slice(pos));
      if (!ln) throw new MetricsParseError(`expected a label name at column ${pos + 1}`, lineNo, line);
      const labelName = ln[0];
      pos += labelName.length;
      skipBlank();
      if (line[pos] !== '=') throw new MetricsParseError(`expected "=" after label ${labelName}`, lineNo, line);
      pos++;
      skipBlank();
      if (line[pos] !== '"') throw new MetricsParseError(`expected a quoted value for label ${labelName}`, lineNo, line);
      pos++;
      let value = '';
      for (;;) {
        if (pos >= line.length) throw new MetricsParseError(`unterminated value for label ${labelName}`, lineNo, line);
        const c = line[pos];
        if (c === '"') {
          pos++;
          break;
        }
        if (c === '\\') {
          const e = line[pos + 1];
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else throw new MetricsParseError(`invalid escape "\\${e ?? ''}" in value of label ${labelName}`, lineNo, line);
          pos += 2;
          continue;
        }
        value += c;
        pos++;
      }
      if (Object.prototype.hasOwnProperty.call(labels, labelName)) throw new MetricsParseError(`duplicate label ${labelName}`, lineNo, line);
      labels[labelName] = value;
      skipBlank();
      if (line[pos] === ',') {
        pos++;
        continue;
      }
      if (line[pos] === '}') {
        pos++;
        break;
      }
      throw new MetricsParseError(`expected "," or "}" after value of label ${labelName}`, lineNo, line);
    }
  }

  const rest = line.slice(pos);
  if (rest.length > 0 && rest[0] !== ' ' && rest[0] !== '\t') throw new MetricsParseError(`unexpected character ${JSON.stringify(rest[0])} after ${name}`, lineNo, line);
  const tokens = rest.trim().split(/[ \t]+/).filter((t) => t !== '');
  if (tokens.length === 0) throw new MetricsParseError(`missing value for ${name}`, lineNo, line);
  if (tokens.length > 2) throw new MetricsParseError(`unexpected text after value and timestamp: ${JSON.stringify(tokens.slice(2).join(' '))}`, lineNo, line);
  const value = parsePromFloat(tokens[0]);
  if (value === undefined) throw new MetricsParseError(`invalid sample value ${JSON.stringify(tokens[0])}`, lineNo, line);
  const sample: PromSample = { name, labels, value };
  if (tokens.length === 2) {
    if (!INTEGER.test(tokens[1])) throw new MetricsParseError(`invalid timestamp ${JSON.stringify(tokens[1])}`, lineNo, line);
    sample.timestamp_ms = Number(tokens[1]);
  }
  return sample;
}

function unescapeHelp(raw: string, lineNo: number, line: string): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = raw[i + 1];
    if (e === '\\') out += '\\';
    else if (e === 'n') out += '\n';
    else throw new MetricsParseError(`invalid escape "\\${e ?? ''}" in HELP text`, lineNo, line);
    i++;
  }
  return out;
}

/** Identity of a series for duplicate detection; label order does not matter. On the hot path of every sample. */
function seriesKey(name: string, labels: Record<string, string>): string {
  const keys = Object.keys(labels);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1] > keys[i]) {
      keys.sort();
      break;
    }
  }
  let key = name;
  for (const k of keys) key += `\u0000${k}\u0001${labels[k]}`;
  return key;
}

function formatLabels(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? '' : `{${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

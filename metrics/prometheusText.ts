/**
 * Parser for the Prometheus text exposition format (version 0.0.4), as emitted by Python
 * prometheus_client (vLLM, SGLang), Rust metrics-exporter-prometheus (TGI) and llama.cpp.
 *
 * Strict on syntax (a page that is not exposition text throws `MetricsParseError` with the
 * 1-based line number, so a garbage page is rejected rather than read as zeros), tolerant of
 * ordering: `_sum` before buckets, `le` after other labels, blank lines, comments, samples
 * without TYPE lines, histogram base names ending in `_total`. See metrics/README-parser.md.
 *
 * Speed (it runs on every scrape of every replica): the page is scanned in place with `indexOf` and
 * `charCodeAt`, without splitting it into lines or running regexes; strings are sliced when they
 * become part of the output; repeated names are reused; duplicate series are found by hash. What
 * is accepted, and every error message, is still exactly what the first, regex-based version gave:
 * where that depended on JavaScript's notion of whitespace (`trim()`, `\s`), the rare input that
 * would make a difference takes the slow path that uses it.
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
/** Suffixes tried, in this order, when a sample does not fit the family before it. */
const FAMILY_SUFFIXES: readonly string[] = ['_bucket', '_sum', '_count', '_created', '_total'];

/** See `hashString`: any odd multiplier works; this one spreads short keys well. */
const HASH_MULTIPLIER = 0x01000193;
const HASH_SEED = 0x811c9dc5 | 0;
const HASH_POWERS = new Int32Array(128);
HASH_POWERS[0] = 1;
for (let n = 1; n < HASH_POWERS.length; n++) HASH_POWERS[n] = Math.imul(HASH_POWERS[n - 1], HASH_MULTIPLIER);

// Character codes the scanner compares against.
const TAB = 0x09;
const CR = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const HASH = 0x23;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const DEL = 0x7f;
const PLUS = 0x2b;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const UPPER_E = 0x45;
const LOWER_E = 0x65;

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
  return new PageParser(text).parse();
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

/**
 * One parse of one page. Methods and fields rather than closures over locals: closures are created
 * anew for each page (or sample), and under tsx each creation also pays a `__name()` call.
 */
class PageParser {
  // The page's families, and what the format's rules need to remember about them.
  private readonly families: MetricFamily[] = [];
  private readonly byName = new Map<string, MetricFamily>();
  private readonly typed = new Set<string>(); // families that have had a TYPE line
  private readonly helped = new Set<string>(); // families that have had a HELP line
  private current: MetricFamily | undefined; // the family of the last HELP, TYPE or sample line

  // Duplicate series detection (see `addSeries`): the first sample seen with each series hash, the
  // exact `seriesKey`s of all samples whose hash was already taken, and the current sample's hash.
  private readonly seriesByHash: SeriesIndex;
  private readonly collidedSeries = new Set<string>();
  private seriesHash = 0;

  // The current line: text[lineStart, lineEnd), without its `\n` and one trailing `\r`.
  private lineNo = 0;
  private lineStart = 0;
  private lineEnd = 0;

  /**
   * The current line's labels, but `__proto__` (which never gets into `labels`), in the order
   * written: the first `labelCount` entries of these arrays, which are reused from line to line.
   * Per label: name, value, where the value is in the text (-1 if it had escapes), and hash and
   * length of its `\u0000${name}\u0001${value}` part of the series key.
   */
  private readonly labelNames: string[] = [];
  private readonly labelValues: string[] = [];
  private readonly labelValueStarts: number[] = [];
  private readonly labelHashes: number[] = [];
  private readonly labelKeyLengths: number[] = [];
  private labelCount = 0;
  /** Whether the label names are in sorted order; if not, `labelOrder` is filled to sort them. */
  private labelsSorted = true;
  private labelOrder: number[] = [];
  /** Set by `labelValue`: the unescaped value, where it is in the text (-1 if it had escapes), and its hash (see `labelValue`). */
  private value = '';
  private valueStart = -1;
  private valueHash = 0;

  // What the previous lines had. Consecutive lines mostly repeat names (a histogram's buckets):
  // handing out the same string objects saves slicing and hashing them again, and makes the
  // comparisons, lookups and property stores that follow cheaper (a string used as a key is interned).
  /** The last sample's name, and `hashString(HASH_SEED, lastName)`. */
  private lastName = '';
  private lastNameHash = 0;
  /** The label names of the last label sets, by position, and the hashes of their parts of the series key (see `labelNameAt`). */
  private readonly lastLabelNames: string[] = [];
  private readonly lastLabelHashes: number[] = [];
  /** The family the last sample went to, that sample's name, and its `boundLabelOf` (see `sampleLine`). */
  private lastFamily: MetricFamily | undefined;
  private lastFamilySample = '';
  private boundLabel: BoundLabel | undefined;

  constructor(private readonly text: string) {
    // Sample lines of real pages are 40 to 150 bytes long: size the table once, for the usual case.
    this.seriesByHash = new SeriesIndex(text.length / 50);
  }

  /** Line by line, numbered as `text.split('\n')` would number them (the error line numbers). */
  parse(): MetricFamily[] {
    const text = this.text;
    const length = text.length;
    let start = 0;
    for (let lineNo = 1; start <= length; lineNo++) {
      let newline = text.indexOf('\n', start);
      if (newline === -1) newline = length;
      this.lineNo = lineNo;
      this.lineStart = start;
      this.lineEnd = newline > start && text.charCodeAt(newline - 1) === CR ? newline - 1 : newline;
      if (!isBlankLine(text, start, this.lineEnd)) {
        if (text.charCodeAt(start) === HASH) this.commentLine();
        else this.sampleLine();
      }
      start = newline + 1;
    }
    return this.families;
  }

  private fail(message: string): never {
    throw new MetricsParseError(message, this.lineNo, this.text.slice(this.lineStart, this.lineEnd));
  }

  /** The character code at `pos`, or -1 past the end of the line. */
  private code(pos: number): number {
    return pos < this.lineEnd ? this.text.charCodeAt(pos) : -1;
  }

  private getOrCreate(name: string): MetricFamily {
    let fam = this.byName.get(name);
    if (!fam) {
      fam = { name, type: 'untyped', help: '', samples: [] };
      this.byName.set(name, fam);
      this.families.push(fam);
    }
    return fam;
  }

  /**
   * `# HELP name text`, `# TYPE name type`, or any other comment (ignored). Accepts exactly what
   * /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/ matched; of the rest, only a HELP/TYPE
   * keyword with nothing after it is an error.
   */
  private commentLine(): void {
    const text = this.text;
    const end = this.lineEnd;
    const afterHash = this.lineStart + 1;
    const keywordStart = skipBlanks(text, afterHash, end);
    if (keywordStart === afterHash || keywordStart + 4 > end) return;
    const keyword = hasWordAt(text, keywordStart, 'HELP') ? 'HELP' : hasWordAt(text, keywordStart, 'TYPE') ? 'TYPE' : undefined;
    if (keyword === undefined) return;
    const afterKeyword = keywordStart + 4;
    const nameStart = skipBlanks(text, afterKeyword, end);
    if (nameStart === end) this.fail('HELP/TYPE line without a metric name');
    if (nameStart === afterKeyword) return; // e.g. `# HELPFUL note`
    const nameEnd = skipNonWhitespace(text, nameStart, end);
    if (nameEnd === nameStart) return; // other whitespace (e.g. NBSP) where the name should be
    let restStart = end;
    if (nameEnd < end) {
      const c = text.charCodeAt(nameEnd);
      if (c !== SPACE && c !== TAB) return; // the name ends in other whitespace
      restStart = skipBlanks(text, nameEnd, end);
      if (hasLineTerminator(text, restStart, end)) return; // the regex's `.` stops at \r, \u2028, \u2029
    }
    const name = text.slice(nameStart, nameEnd);
    if (skipMetricName(text, nameStart, nameEnd) !== nameEnd) this.fail(`invalid metric name ${JSON.stringify(name)} in ${keyword} line`);
    const fam = this.getOrCreate(name);
    if (keyword === 'HELP') {
      if (this.helped.has(name)) this.fail(`second HELP line for ${name}`);
      this.helped.add(name);
      fam.help = this.unescapeHelp(text.slice(restStart, end));
    } else {
      const type = typeAt(text, restStart, end);
      if (!TYPES.has(type)) this.fail(`unknown metric type ${JSON.stringify(type)} for ${name}`);
      if (this.typed.has(name)) this.fail(`second TYPE line for ${name}`);
      if (fam.samples.length > 0) this.fail(`TYPE line for ${name} after its samples`);
      this.typed.add(name);
      fam.type = type as MetricType;
    }
    this.current = fam;
  }

  private unescapeHelp(raw: string): string {
    if (raw.indexOf('\\') === -1) return raw; // the usual case: nothing to unescape
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
      else this.fail(`invalid escape "\\${e ?? ''}" in HELP text`);
      i++;
    }
    return out;
  }

  /** `name{labels} value [timestamp]`, placed in its family. */
  private sampleLine(): void {
    const sample = this.parseSample();
    let fam = this.current;
    // The usual case, a sample named like the one before it in the same family (histogram buckets,
    // labelled series) skips the family search: it would find `current` again, as a family's type
    // cannot change once it has samples.
    if (fam === undefined || fam !== this.lastFamily || sample.name !== this.lastFamilySample) {
      fam = this.familyFor(sample.name) ?? this.getOrCreate(sample.name);
      if (!belongsTo(sample.name, fam)) this.fail(`sample ${sample.name} does not fit ${fam.type} family ${fam.name}`);
      this.boundLabel = boundLabelOf(fam, sample.name);
    }
    if (this.boundLabel !== undefined) this.checkBound(this.boundLabel);
    this.addSeries(sample);
    fam.samples.push(sample);
    this.current = this.lastFamily = fam;
    this.lastFamilySample = sample.name;
  }

  /**
   * Rejects a second sample of the same series: same `seriesKey`, as the first version compared
   * them. Building and hashing that string for every sample took about a third of the parse time,
   * so samples are compared by a hash of it (computed on the way, without building it), and the
   * exact keys are built only for samples whose hash is already taken: a duplicate, or (rarely) a
   * hash collision.
   */
  private addSeries(sample: PromSample): void {
    const first = this.seriesByHash.addIfNew(this.seriesHash, sample);
    if (first === undefined) return;
    // Every earlier sample with this hash is either `first` or already in `collidedSeries`.
    this.collidedSeries.add(seriesKey(first.name, first.labels));
    const key = seriesKey(sample.name, sample.labels);
    if (this.collidedSeries.has(key)) this.fail(`duplicate series ${sample.name}${formatLabels(sample.labels)}`);
    this.collidedSeries.add(key);
  }

  private familyFor(sampleName: string): MetricFamily | undefined {
    const current = this.current;
    if (current && belongsTo(sampleName, current)) return current;
    const exact = this.byName.get(sampleName);
    if (exact && belongsTo(sampleName, exact)) return exact;
    for (const suffix of FAMILY_SUFFIXES) {
      if (!sampleName.endsWith(suffix)) continue;
      const fam = this.byName.get(sampleName.slice(0, -suffix.length));
      if (fam && belongsTo(sampleName, fam)) return fam;
    }
    return undefined;
  }

  /**
   * A histogram bucket needs a numeric `le` label, a summary quantile a numeric `quantile`. The
   * label is looked up among the line's labels (the same as in `labels`, and cheaper than a
   * property lookup on objects of many shapes); its value, if a plain decimal, checked in place.
   */
  private checkBound(label: BoundLabel): void {
    let i = 0;
    while (i < this.labelCount && this.labelNames[i] !== label) i++;
    if (i === this.labelCount) this.fail(label === 'le' ? `histogram bucket without an "le" label` : `summary sample without a "quantile" label`);
    const value = this.labelValues[i];
    const start = this.labelValueStarts[i];
    if (start >= 0 && isDecimal(this.text, start, start + value.length)) return;
    if (!isNumberOtherThanNaN(value)) this.fail(`invalid "${label}" value ${JSON.stringify(value)}`);
  }

  /** Parses the current line as a sample; leaves the hash of its series in `this.seriesHash`. */
  private parseSample(): PromSample {
    const text = this.text;
    const end = this.lineEnd;
    const nameStart = skipBlanks(text, this.lineStart, end);
    const name = this.metricNameAt(nameStart);
    if (name === '') this.fail('expected a metric name');
    const nameEnd = nameStart + name.length;
    const labels: Record<string, string> = {};
    let pos = nameEnd;
    this.labelCount = 0;
    this.labelsSorted = true;
    const brace = skipBlanks(text, nameEnd, end);
    if (this.code(brace) === OPEN_BRACE) pos = this.labelSet(brace + 1, labels);
    this.seriesHash = this.hashSeries();
    return this.valueAndTimestamp(pos, name, labels);
  }

  /** The hash of `seriesKey(name, labels)` for the current line: of the name, then of each label's part in sorted order. */
  private hashSeries(): number {
    let hash = this.lastNameHash; // (the current sample's name is `lastName`)
    const count = this.labelCount;
    if (!this.labelsSorted) this.sortLabelOrder();
    for (let k = 0; k < count; k++) {
      const i = this.labelsSorted ? k : this.labelOrder[k];
      hash = (Math.imul(hash, hashPower(this.labelKeyLengths[i])) + this.labelHashes[i]) | 0;
    }
    return hash;
  }

  /** Fills `labelOrder` with the indices of the line's labels in the order of their names. */
  private sortLabelOrder(): void {
    const names = this.labelNames;
    if (this.labelCount > 8) {
      this.labelOrder = Array.from({ length: this.labelCount }, (_, i) => i).sort((a, b) => (names[a] < names[b] ? -1 : 1));
      return;
    }
    const order = this.labelOrder; // insertion sort, for the usual few labels
    for (let i = 0; i < this.labelCount; i++) {
      let j = i - 1;
      for (; j >= 0 && names[order[j]] > names[i]; j--) order[j + 1] = order[j];
      order[j + 1] = i;
    }
  }

  /** The metric name at `start` of the line ('' if there is none there), which becomes `lastName`. */
  private metricNameAt(start: number): string {
    const text = this.text;
    const end = this.lineEnd;
    const last = this.lastName;
    const lastEnd = start + last.length;
    // (Comparing a slice is cheaper than comparing character by character in JavaScript.)
    if (lastEnd <= end && (lastEnd === end || !isMetricNameChar(text.charCodeAt(lastEnd))) && text.slice(start, lastEnd) === last) return last;
    const nameEnd = skipMetricName(text, start, end);
    if (nameEnd === start) return '';
    this.lastName = text.slice(start, nameEnd);
    this.lastNameHash = hashString(HASH_SEED, this.lastName);
    return this.lastName;
  }

  /**
   * The label name in text[start, end): the same string as the last time it was at `index` in a
   * label set if it is that name again. Also keeps the hash of `\u0000${name}\u0001` (its part of
   * the series key before the value) in `lastLabelHashes[index]`.
   */
  private labelNameAt(index: number, start: number, end: number): string {
    const name = this.text.slice(start, end);
    const last = this.lastLabelNames[index];
    if (name === last) return last;
    this.lastLabelHashes[index] = (Math.imul(hashString(0, name), HASH_MULTIPLIER) + 1) | 0;
    return (this.lastLabelNames[index] = name);
  }

  /**
   * Parses `label="value", …}` from just after the `{` into `labels` (and `labelNames` etc.);
   * returns the position after the `}`.
   */
  private labelSet(pos: number, labels: Record<string, string>): number {
    const text = this.text;
    const end = this.lineEnd;
    let count = 0;
    let sorted = true;
    for (;;) {
      pos = skipBlanks(text, pos, end);
      if (this.code(pos) === CLOSE_BRACE) {
        pos++;
        break;
      }
      const labelEnd = skipLabelName(text, pos, end);
      if (labelEnd === pos) this.fail(`expected a label name at column ${pos - this.lineStart + 1}`);
      const labelName = this.labelNameAt(count, pos, labelEnd);
      pos = skipBlanks(text, labelEnd, end);
      if (this.code(pos) !== EQUALS) this.fail(`expected "=" after label ${labelName}`);
      pos = skipBlanks(text, pos + 1, end);
      if (this.code(pos) !== QUOTE) this.fail(`expected a quoted value for label ${labelName}`);
      pos = this.labelValue(pos + 1, labelName, this.lastLabelHashes[count]);
      const value = this.value;
      if (this.hasLabel(labels, labelName, count)) this.fail(`duplicate label ${labelName}`);
      labels[labelName] = value;
      if (labelName !== '__proto__') {
        // (`__proto__` is not in `labels`: assigning a string to it is a no-op, as it always was.)
        if (count > 0 && this.labelNames[count - 1] > labelName) sorted = false;
        this.labelNames[count] = labelName;
        this.labelValues[count] = value;
        this.labelValueStarts[count] = this.valueStart;
        this.labelHashes[count] = this.valueHash;
        this.labelKeyLengths[count] = labelName.length + value.length + 2;
        count++;
      }
      pos = skipBlanks(text, pos, end);
      const c = this.code(pos);
      if (c === COMMA) {
        pos++;
        continue;
      }
      if (c === CLOSE_BRACE) {
        pos++;
        break;
      }
      this.fail(`expected "," or "}" after value of label ${labelName}`);
    }
    this.labelCount = count;
    this.labelsSorted = sorted;
    return pos;
  }

  /**
   * Whether `labels` already has `name` as its own property: for the usual few labels, looked up
   * among the line's label names (the same set: all but `__proto__`), which is cheaper.
   */
  private hasLabel(labels: Record<string, string>, name: string, count: number): boolean {
    if (count > 8) return Object.prototype.hasOwnProperty.call(labels, name);
    for (let i = 0; i < count; i++) if (this.labelNames[i] === name) return true;
    return false;
  }

  /**
   * Reads a label value from just after its opening quote into `this.value` (and `valueStart`), and
   * `seed` continued over it (as `hashString` would) into `valueHash`; returns the position after the
   * closing quote.
   */
  private labelValue(start: number, labelName: string, seed: number): number {
    const text = this.text;
    const end = this.lineEnd;
    // Fast path: no escapes, so the value is one slice of the page (hashed on the way).
    let hash = seed;
    for (let pos = start; pos < end; pos++) {
      const c = text.charCodeAt(pos);
      if (c === QUOTE) {
        this.value = text.slice(start, pos);
        this.valueStart = start;
        this.valueHash = hash;
        return pos + 1;
      }
      if (c === BACKSLASH) break;
      hash = (Math.imul(hash, HASH_MULTIPLIER) + c) | 0;
    }
    const after = this.escapedLabelValue(start, labelName);
    this.valueStart = -1;
    this.valueHash = hashString(seed, this.value);
    return after;
  }

  /** `labelValue` for values with escapes (or no closing quote): unescapes `\\`, `\"` and `\n`, rejects any other. */
  private escapedLabelValue(start: number, labelName: string): number {
    const text = this.text;
    const end = this.lineEnd;
    let value = '';
    let chunk = start; // start of the run of plain characters not yet appended to `value`
    for (let pos = start; ; ) {
      if (pos >= end) this.fail(`unterminated value for label ${labelName}`);
      const c = text.charCodeAt(pos);
      if (c === QUOTE) {
        this.value = value + text.slice(chunk, pos);
        return pos + 1;
      }
      if (c !== BACKSLASH) {
        pos++;
        continue;
      }
      value += text.slice(chunk, pos);
      const e = pos + 1 < end ? text[pos + 1] : undefined;
      if (e === '\\') value += '\\';
      else if (e === '"') value += '"';
      else if (e === 'n') value += '\n';
      else this.fail(`invalid escape "\\${e ?? ''}" in value of label ${labelName}`);
      pos += 2;
      chunk = pos;
    }
  }

  /** Parses ` value [timestamp]` from `pos` to the end of the line and builds the sample. */
  private valueAndTimestamp(pos: number, name: string, labels: Record<string, string>): PromSample {
    const text = this.text;
    const end = this.lineEnd;
    if (pos < end) {
      const c = text.charCodeAt(pos);
      if (c !== SPACE && c !== TAB) this.fail(`unexpected character ${JSON.stringify(text[pos])} after ${name}`);
    }
    // Fast path: at most two tokens of printable ASCII, separated by spaces and tabs.
    const valueStart = skipBlanks(text, pos, end);
    const valueEnd = skipPrintable(text, valueStart, end);
    const timestampStart = skipBlanks(text, valueEnd, end);
    const timestampEnd = skipPrintable(text, timestampStart, end);
    if (skipBlanks(text, timestampEnd, end) === end) {
      if (valueStart === end) this.fail(`missing value for ${name}`);
      let value: number | undefined;
      if (isDecimal(text, valueStart, valueEnd)) value = decimalToNumber(text, valueStart, valueEnd);
      else {
        const token = text.slice(valueStart, valueEnd);
        value = parsePromFloat(token); // NaN, ±Inf
        if (value === undefined) this.fail(`invalid sample value ${JSON.stringify(token)}`);
      }
      const timestamp = timestampStart === end ? undefined : text.slice(timestampStart, timestampEnd);
      return this.sample(name, labels, value, timestamp);
    }
    // Anything else (a third token, control or non-ASCII characters): split as the format's
    // first implementation did, where `trim()` also strips e.g. NBSP and \v at either end.
    const tokens = text
      .slice(pos, end)
      .trim()
      .split(/[ \t]+/)
      .filter((t) => t !== '');
    if (tokens.length === 0) this.fail(`missing value for ${name}`);
    if (tokens.length > 2) this.fail(`unexpected text after value and timestamp: ${JSON.stringify(tokens.slice(2).join(' '))}`);
    const value = parsePromFloat(tokens[0]);
    if (value === undefined) this.fail(`invalid sample value ${JSON.stringify(tokens[0])}`);
    return this.sample(name, labels, value, tokens[1]);
  }

  private sample(name: string, labels: Record<string, string>, value: number, timestampToken: string | undefined): PromSample {
    const sample: PromSample = { name, labels, value };
    if (timestampToken !== undefined) {
      if (!INTEGER.test(timestampToken)) this.fail(`invalid timestamp ${JSON.stringify(timestampToken)}`);
      sample.timestamp_ms = Number(timestampToken);
    }
    return sample;
  }
}

type BoundLabel = 'le' | 'quantile';

/** The label a sample must have, with a number in it, given its family: see `checkBound`. */
function boundLabelOf(fam: MetricFamily, sampleName: string): BoundLabel | undefined {
  // (`sampleName` belongs to `fam`: it is the family name, or that plus one of the type's suffixes.)
  if (fam.type === 'histogram' && sampleName.length === fam.name.length + 7 && sampleName.endsWith('_bucket')) return 'le';
  if (fam.type === 'summary' && sampleName === fam.name) return 'quantile';
  return undefined;
}

/** `parsePromFloat(token)` is a number other than NaN; decimals are checked without converting them (long ones are slow to convert). */
function isNumberOtherThanNaN(token: string): boolean {
  if (isDecimal(token, 0, token.length)) return true;
  const v = parsePromFloat(token);
  return v !== undefined && !Number.isNaN(v);
}

/**
 * The first sample seen with each series hash (a 32-bit integer): a hash table with open addressing
 * in typed arrays, which made the whole parse about 5% faster than a `Map<number, PromSample>`.
 */
class SeriesIndex {
  private hashes: Int32Array;
  private slots: Int32Array; // 1 + index in `samples`, 0 for an empty slot
  private readonly samples: PromSample[] = [];

  /** `expected`: about how many samples there will be (the table grows as needed). */
  constructor(expected: number) {
    let capacity = 64;
    while (capacity < 2 * expected) capacity *= 2;
    this.hashes = new Int32Array(capacity);
    this.slots = new Int32Array(capacity);
  }

  /** The sample added before with `hash`, if any; otherwise adds `sample` with it and returns undefined. */
  addIfNew(hash: number, sample: PromSample): PromSample | undefined {
    const mask = this.slots.length - 1;
    for (let i = mixHash(hash) & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i];
      if (slot === 0) break;
      if (this.hashes[i] === hash) return this.samples[slot - 1];
    }
    this.place(hash, this.samples.push(sample));
    if (this.samples.length * 2 > this.slots.length) this.grow(); // keep at most half the slots taken
    return undefined;
  }

  /** Doubles the table, placing all samples again. */
  private grow(): void {
    const hashes = this.hashes;
    const slots = this.slots;
    this.hashes = new Int32Array(slots.length * 2);
    this.slots = new Int32Array(slots.length * 2);
    for (let i = 0; i < slots.length; i++) if (slots[i] !== 0) this.place(hashes[i], slots[i]);
  }

  private place(hash: number, slot: number): void {
    const mask = this.slots.length - 1;
    let i = mixHash(hash) & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.hashes[i] = hash;
    this.slots[i] = slot;
  }
}

/** Spreads the bits of a polynomial hash (the low ones depend mostly on the last characters) before masking: murmur3's finalizer. */
function mixHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function belongsTo(sampleName: string, fam: MetricFamily): boolean {
  const base = fam.name;
  if (sampleName === base) return fam.type !== 'histogram';
  // The name must be the family name plus one of the type's suffixes. Checked in the cheapest
  // order: length, then the suffix, then the prefix (`startsWith` is several times slower here).
  const suffixLength = sampleName.length - base.length;
  for (const suffix of SUFFIXES[fam.type]) {
    if (suffix.length === suffixLength && sampleName.endsWith(suffix)) return sampleName.slice(0, base.length) === base;
  }
  return false;
}

/**
 * 32-bit polynomial hash of a string, continuing from `hash`: `hashString(hashString(h, a), b)`
 * equals `hashString(h, a + b)`, so a series key can be hashed piece by piece, without building it.
 */
function hashString(hash: number, s: string): number {
  for (let i = 0; i < s.length; i++) hash = (Math.imul(hash, HASH_MULTIPLIER) + s.charCodeAt(i)) | 0;
  return hash;
}

/** HASH_MULTIPLIER ** n (mod 2^32): continuing a hash `h` over a string of length n that hashes to `x` from 0 gives h * hashPower(n) + x. */
function hashPower(n: number): number {
  if (n < HASH_POWERS.length) return HASH_POWERS[n];
  let power = 1;
  for (let base = HASH_MULTIPLIER; n > 0; n >>>= 1, base = Math.imul(base, base)) if (n & 1) power = Math.imul(power, base);
  return power;
}

/** Identity of a series for duplicate detection; label order does not matter. */
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

/** 10^0 … 10^15 (a double holds them exactly). */
const EXACT_POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** Whether text[start, end) matches DECIMAL: the regex, by hand, to spare a slice and a regex call per sample. */
function isDecimal(text: string, start: number, end: number): boolean {
  let pos = start;
  if (pos < end && (text.charCodeAt(pos) === PLUS || text.charCodeAt(pos) === MINUS)) pos++;
  const integerStart = pos;
  pos = skipDigits(text, pos, end);
  let digits = pos - integerStart;
  if (pos < end && text.charCodeAt(pos) === DOT) {
    const fractionStart = ++pos;
    pos = skipDigits(text, pos, end);
    digits += pos - fractionStart;
  }
  if (digits === 0) return false; // "", "+", "."
  if (pos < end && (text.charCodeAt(pos) === LOWER_E || text.charCodeAt(pos) === UPPER_E)) {
    pos++;
    if (pos < end && (text.charCodeAt(pos) === PLUS || text.charCodeAt(pos) === MINUS)) pos++;
    const exponentStart = pos;
    pos = skipDigits(text, pos, end);
    if (pos === exponentStart) return false;
  }
  return pos === end;
}

/**
 * `Number(text.slice(start, end))` for a decimal (`isDecimal`). Short plain ones (the usual sample
 * values) are converted here: with at most 15 digits and no exponent, digits / 10^fraction is one
 * correctly rounded division of two exact doubles, hence exactly what `Number()` returns (the
 * classic fast path of decimal-to-double conversion).
 */
function decimalToNumber(text: string, start: number, end: number): number {
  let digits = 0; // all the digits, read as one integer (exact while there are at most 15)
  let count = 0;
  let fraction = -1; // digits after the point, once there is one
  for (let pos = start; pos < end; pos++) {
    const c = text.charCodeAt(pos);
    if (isDigit(c)) {
      digits = digits * 10 + (c - ZERO);
      count++;
      if (fraction >= 0) fraction++;
    } else if (c === DOT) fraction = 0;
    else if (c === LOWER_E || c === UPPER_E) return Number(text.slice(start, end));
    // (else a leading sign)
  }
  if (count > 15) return Number(text.slice(start, end));
  const value = fraction > 0 ? digits / EXACT_POWERS_OF_TEN[fraction] : digits; // fraction <= 15 here
  return text.charCodeAt(start) === MINUS ? -value : value;
}

// Scanning helpers: each returns the first position in [pos, end) not matching, or `end`.

function skipBlanks(text: string, pos: number, end: number): number {
  while (pos < end) {
    const c = text.charCodeAt(pos);
    if (c !== SPACE && c !== TAB) break;
    pos++;
  }
  return pos;
}

/** `[a-zA-Z_:][a-zA-Z0-9_:]*`; returns `pos` if there is no metric name there. */
function skipMetricName(text: string, pos: number, end: number): number {
  return skipName(text, pos, end, METRIC_NAME_START, METRIC_NAME_START | DIGIT);
}

/** `[a-zA-Z_][a-zA-Z0-9_]*`; returns `pos` if there is no label name there. */
function skipLabelName(text: string, pos: number, end: number): number {
  return skipName(text, pos, end, LABEL_NAME_START, LABEL_NAME_START | DIGIT);
}

/** A first character of class `first`, then any of class `rest` (classes from `CHAR_CLASS`). */
function skipName(text: string, pos: number, end: number, first: number, rest: number): number {
  if (pos >= end || (charClass(text.charCodeAt(pos)) & first) === 0) return pos;
  for (pos++; pos < end && (charClass(text.charCodeAt(pos)) & rest) !== 0; pos++);
  return pos;
}

/** Printable ASCII (no blanks, no control or non-ASCII characters). */
function skipPrintable(text: string, pos: number, end: number): number {
  while (pos < end) {
    const c = text.charCodeAt(pos);
    if (c <= SPACE || c >= DEL) break;
    pos++;
  }
  return pos;
}

function isMetricNameChar(c: number): boolean {
  return (charClass(c) & (METRIC_NAME_START | DIGIT)) !== 0;
}

/** Whether `word` (no line breaks in it) is at text[pos…]. Cheaper than `startsWith`. */
function hasWordAt(text: string, pos: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (text.charCodeAt(pos + i) !== word.charCodeAt(i)) return false;
  return true;
}

/** `text.slice(start, end).trim()`, as a string constant (no slice) when it is exactly a type name. */
function typeAt(text: string, start: number, end: number): string {
  for (const type of TYPES) if (type.length === end - start && hasWordAt(text, start, type)) return type;
  return text.slice(start, end).trim();
}

/** What a regex's `\S` matches. */
function skipNonWhitespace(text: string, pos: number, end: number): number {
  while (pos < end && !isWhitespace(text.charCodeAt(pos))) pos++;
  return pos;
}

/** Whether [pos, end) holds a character a regex's `.` does not match (`\n` never occurs in a line). */
function hasLineTerminator(text: string, pos: number, end: number): boolean {
  for (; pos < end; pos++) {
    const c = text.charCodeAt(pos);
    if (c === CR || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/** Same as `text.slice(start, end).trim() === ''`, without the slice in the usual case. */
function isBlankLine(text: string, start: number, end: number): boolean {
  const pos = skipBlanks(text, start, end);
  if (pos === end) return true;
  const c = text.charCodeAt(pos);
  if (c > SPACE && c < DEL) return false;
  return text.slice(start, end).trim() === ''; // \v, \f, NBSP, …: let trim() decide, as before
}

// Character classes of the names, as bits of `CHAR_CLASS` (a table lookup beats the range tests).
const LABEL_NAME_START = 1; // a-z A-Z _
const METRIC_NAME_START = 2; // a-z A-Z _ :
const DIGIT = 4; // 0-9
const CHAR_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[a-zA-Z_]/.test(ch)) CHAR_CLASS[c] |= LABEL_NAME_START | METRIC_NAME_START;
  if (ch === ':') CHAR_CLASS[c] |= METRIC_NAME_START;
  if (/[0-9]/.test(ch)) CHAR_CLASS[c] |= DIGIT;
}

function charClass(c: number): number {
  return c < 128 ? CHAR_CLASS[c] : 0;
}

function skipDigits(text: string, pos: number, end: number): number {
  while (pos < end && isDigit(text.charCodeAt(pos))) pos++;
  return pos;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** JavaScript's whitespace and line terminators: what `\s` matches and `trim()` strips. */
export function isWhitespace(c: number): boolean {
  if (c < 0x80) return c === SPACE || (c >= TAB && c <= CR);
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

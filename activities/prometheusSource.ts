/**
 * Engine metrics read from a Prometheus server (HTTP API, one PromQL instant query per reading)
 * instead of scraping the replicas. The answer is turned back into the `MetricFamily` structure the
 * text parser produces and read by the same engine adapter, one replica at a time, then merged with
 * `mergeSamples`: the result has exactly the shape of `sampleReplicas`.
 *
 * ## Label convention (how a replica address maps to Prometheus series)
 * Every series of a replica carries a `replica` label (configurable: `replicaLabel`) whose value is
 * the replica's address as servetune knows it: as listed in the request's `replicas` or returned by
 * the deployment's `GET /servetune/v1/replicas`, e.g. `http://127.0.0.1:8000/replicas/3`. Trailing
 * slashes are ignored, and `http://host:port` also matches a label written as `host:port` (and the
 * reverse). In the scrape config it is one target label per target:
 *
 * ```yaml
 * scrape_configs:
 *   - job_name: vllm
 *     static_configs:
 *       - targets: ['127.0.0.1:8000']
 *         labels: { __metrics_path__: /replicas/3/metrics, replica: 'http://127.0.0.1:8000/replicas/3' }
 * ```
 *
 * or, with service discovery, a relabel rule that builds it, e.g. for pods serving at the root:
 * `{ source_labels: [__address__], regex: '(.+)', target_label: replica, replacement: 'http://$1' }`.
 *
 * `replicaLabel: 'instance'` uses Prometheus' default `instance` label (`host:port`) instead, for
 * fleets with one replica per host:port and no relabeling; two replicas on one host:port are then
 * indistinguishable, which is an error. `jobSelector` adds matchers (`job="vllm"`) to the query.
 *
 * ## Timing
 * A sample's `at_ms` is the time of the scrape Prometheus took (`timestamp(up)`), not of the query,
 * so rates over two readings use the real interval between scrapes. Two readings less than one
 * scrape interval apart may see the same scrape: the window is then 0 and rates are null (no data),
 * never a false 0. Monitoring windows should span several scrape intervals.
 */
import { isAxiosError, type AxiosInstance, type AxiosResponse } from 'axios';
import {
  adapterFor,
  mergeSamples,
  parsePromFloat,
  type EngineSample,
  type MetricFamily,
  type MetricType,
  type PromSample,
} from '../metrics';
import type { EngineType } from '../models/engine';
import { PROMQL_MATCHERS } from '../models/metricSource';
import type { MetricSource } from './metricSource';
import { ResponseTooLargeError, TargetRefusedError } from './httpClient';
import { activityLog } from './log';

/** Metric-name prefixes each engine's adapter reads. */
export const ENGINE_METRIC_PREFIXES: Readonly<Record<EngineType, readonly string[]>> = Object.freeze({
  vllm: ['vllm:', 'ray_vllm:'],
  tgi: ['tgi_'],
  sglang: ['sglang:'],
});

export interface PrometheusSourceOptions {
  /** Prometheus base URL, e.g. `http://prometheus:9090` (a path prefix is kept: `http://host/prom`). */
  url: string;
  http: AxiosInstance;
  /** Label that names the replica; default `replica`. `instance` matches the replica's host:port. */
  replicaLabel?: string;
  /** Extra PromQL label matchers, e.g. `job="vllm"` or `job=~"vllm-.*",cluster="eu-1"`. */
  jobSelector?: string;
  /** Queries longer than this go as a form-encoded POST instead of a GET URL (default 4000 chars). */
  maxGetQueryLength?: number;
  /** Largest answer read (default 64 MiB): one answer holds the series of every replica sampled. */
  maxAnswerBytes?: number;
}

const DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024;

export type PrometheusSourceErrorKind =
  | 'unreachable' // network error, 5xx, 503 timeouts: retrying may help
  | 'query' // Prometheus rejected the query (4xx, status "error")
  | 'bad_answer' // the URL answered, but not as a Prometheus query API
  | 'missing_replicas' // some replicas have no series (not scraped, last scrape failed, wrong engine)
  | 'ambiguous_replicas' // two replicas map to one label value
  | 'config'; // nothing to query, or an invalid option

export class PrometheusSourceError extends Error {
  readonly kind: PrometheusSourceErrorKind;
  /** The replicas the error is about (missing or ambiguous ones), else empty. */
  readonly replicas: string[];
  constructor(kind: PrometheusSourceErrorKind, message: string, replicas: string[] = []) {
    super(message);
    this.name = 'PrometheusSourceError';
    this.kind = kind;
    this.replicas = replicas;
  }
  /** Whether a later attempt can succeed without a change of request or configuration. */
  get retryable(): boolean {
    return this.kind === 'unreachable' || this.kind === 'missing_replicas';
  }
}

/** Label the query puts on its own helper series (scrape health and time), never on engine series. */
const SCRAPE_LABEL = 'servetune_scrape';
/** Target labels Prometheus adds to every series; dropped so each replica's families match its page. */
const TARGET_LABELS = ['instance', 'job'];

function stripSlashes(address: string): string {
  return address.trim().replace(/\/+$/, '');
}

/**
 * Label values that identify `address` under `label`. For `instance`: the address' host:port (with
 * the scheme's default port when none is written, as Prometheus 2 fills it in, and the bare host).
 * Otherwise the address itself, with and without an `http://` scheme.
 */
export function replicaLabelValues(address: string, label: string): string[] {
  const trimmed = stripSlashes(address);
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed);
  if (label === 'instance') {
    let url: URL;
    try {
      url = new URL(hasScheme ? trimmed : `http://${trimmed}`);
    } catch {
      throw new PrometheusSourceError('config', `replica address ${JSON.stringify(address)} is not a URL or host:port`, [address]);
    }
    if (url.port) return [url.host];
    const port = url.protocol === 'https:' ? '443' : '80';
    return [`${url.host}:${port}`, url.host];
  }
  if (!hasScheme) return [trimmed, `http://${trimmed}`];
  if (/^http:\/\//i.test(trimmed)) return [trimmed, trimmed.slice('http://'.length)];
  return [trimmed];
}

/** Escapes `s` for use as a literal inside an RE2 regular expression. */
export function regexLiteral(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A PromQL double-quoted string literal (Go escape syntax, which JSON's is a subset of). */
function promqlString(s: string): string {
  return JSON.stringify(s);
}

/**
 * The instant query for one reading: the engine's series of the given replicas, plus, per replica
 * target, `up` (did the last scrape work) and `timestamp(up)` (when it happened), each marked with
 * the `servetune_scrape` label so `or` never confuses them with engine series.
 */
export function buildQuery(engine: EngineType, labelValues: readonly string[], replicaLabel: string, jobSelector?: string): string {
  const prefixes = ENGINE_METRIC_PREFIXES[engine];
  if (!prefixes) throw new PrometheusSourceError('config', `metrics for engine "${String(engine)}" are not supported (vllm, tgi, sglang)`);
  const replicas = `${replicaLabel}=~${promqlString(labelValues.map(regexLiteral).join('|'))}`;
  const extra = jobSelector && jobSelector.trim() !== '' ? `,${jobSelector.trim()}` : '';
  const names = `__name__=~${promqlString(prefixes.map((p) => `${regexLiteral(p)}.+`).join('|'))}`;
  const up = `up{${replicas}${extra}}`;
  return [
    `{${names},${replicas}${extra}}`,
    `label_replace(${up}, "${SCRAPE_LABEL}", "up", "", "")`,
    `label_replace(timestamp(${up}), "${SCRAPE_LABEL}", "timestamp", "", "")`,
  ].join(' or ');
}

export interface PromVectorItem {
  metric: Record<string, string>;
  value: [number, string];
}

function familyBase(name: string, suffix: string): string | undefined {
  return name.endsWith(suffix) && name.length > suffix.length ? name.slice(0, -suffix.length) : undefined;
}

/**
 * Series of one replica (labels already stripped of target labels) → the families the text parser
 * would have produced for its page. Types are inferred, since the query API returns no TYPE lines:
 * `<base>_bucket` with `le` makes `<base>` a histogram (its `_sum`, `_count`, `_created` join it),
 * `quantile` with `_sum`/`_count` a summary, a `_total` name a counter, anything else untyped.
 * The adapters read samples by name, so only names, labels and values matter to them.
 */
export function seriesToFamilies(series: ReadonlyArray<{ name: string; labels: Record<string, string>; value: number }>): MetricFamily[] {
  const names = new Set(series.map((s) => s.name));
  const histograms = new Set<string>();
  const summaries = new Set<string>();
  for (const s of series) {
    const base = familyBase(s.name, '_bucket');
    if (base !== undefined && s.labels.le !== undefined) histograms.add(base);
    if (s.labels.quantile !== undefined && (names.has(`${s.name}_sum`) || names.has(`${s.name}_count`))) summaries.add(s.name);
  }
  const familyOf = (name: string): { name: string; type: MetricType } => {
    for (const suffix of ['_bucket', '_sum', '_count', '_created']) {
      const base = familyBase(name, suffix);
      if (base === undefined) continue;
      if (histograms.has(base)) return { name: base, type: 'histogram' };
      if (suffix !== '_bucket' && summaries.has(base)) return { name: base, type: 'summary' };
    }
    if (summaries.has(name)) return { name, type: 'summary' };
    const counter = familyBase(name, '_total');
    if (counter !== undefined) return { name: counter, type: 'counter' };
    return { name, type: 'untyped' };
  };
  const families = new Map<string, MetricFamily>();
  for (const s of series) {
    const { name, type } = familyOf(s.name);
    const key = `${type}\u0000${name}`;
    let fam = families.get(key);
    if (!fam) families.set(key, (fam = { name, type, help: '', samples: [] }));
    const sample: PromSample = { name: s.name, labels: s.labels, value: s.value };
    fam.samples.push(sample);
  }
  return [...families.values()];
}

/** An engine series' own labels: without `__name__`, the replica label and the target labels. */
function ownLabels(metric: Record<string, string>, replicaLabel: string): Record<string, string> {
  const dropped = new Set(['__name__', replicaLabel, ...TARGET_LABELS]);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(metric)) if (!dropped.has(k)) out[k] = v;
  // A page's own label that clashed with a target label was renamed `exported_<label>` on ingestion.
  for (const k of dropped) {
    const exported = `exported_${k}`;
    if (k !== '__name__' && out[exported] !== undefined) {
      out[k] = out[exported];
      delete out[exported];
    }
  }
  return out;
}

/** The size of an answer: its text stays out of errors (the URL may be any internal page); logged at debug level. */
function sizeOf(data: unknown): string {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  activityLog().debug({ body: (text ?? '').slice(0, 300) }, 'Prometheus answer not understood');
  return `${Buffer.byteLength(text ?? '')} bytes`;
}

/** Prometheus' `errorType` is one short word (`bad_data`, `timeout`); anything else is not repeated. */
function errorTypeOf(value: unknown): string {
  return typeof value === 'string' && /^[a-z_]{1,32}$/.test(value) ? value : 'error';
}

/** The query's result vector, or a `PrometheusSourceError` that says what went wrong and where. */
async function runQuery(opts: PrometheusSourceOptions, base: string, query: string, signal?: AbortSignal): Promise<PromVectorItem[]> {
  const endpoint = `${base}/api/v1/query`;
  const shown = query.length > 400 ? `${query.slice(0, 400)}…` : query;
  let res: AxiosResponse<unknown>;
  try {
    const common = { validateStatus: () => true, responseType: 'json' as const, signal, maxContentLength: opts.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES };
    res =
      query.length > (opts.maxGetQueryLength ?? 4000)
        ? await opts.http.post(endpoint, new URLSearchParams({ query }).toString(), {
            ...common,
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          })
        : await opts.http.get(endpoint, { ...common, params: { query } });
  } catch (err) {
    if (err instanceof TargetRefusedError || err instanceof ResponseTooLargeError) throw new PrometheusSourceError('config', `Prometheus at ${base}: ${err.message}`);
    const how = isAxiosError(err) ? `${err.code ?? 'network error'} ${err.message}` : (err as Error)?.message ?? String(err);
    throw new PrometheusSourceError('unreachable', `Prometheus at ${base} is unreachable: ${how}`);
  }
  const body = res.data as { status?: unknown; errorType?: unknown; error?: unknown; data?: { resultType?: unknown; result?: unknown } } | null;
  const isApi = body !== null && typeof body === 'object' && (body.status === 'success' || body.status === 'error');
  if (!isApi) {
    const kind = res.status >= 500 ? 'unreachable' : 'bad_answer';
    const redirect = res.status >= 300 && res.status < 400 ? ', a redirect, not followed' : '';
    throw new PrometheusSourceError(kind, `Prometheus at ${base} did not answer as the query API (HTTP ${res.status}${redirect}, ${sizeOf(res.data)})`);
  }
  if (body.status === 'error' || res.status >= 400) {
    const kind = res.status >= 500 ? 'unreachable' : 'query';
    throw new PrometheusSourceError(
      kind,
      `Prometheus at ${base} rejected the query (HTTP ${res.status} ${errorTypeOf(body.errorType)}, ${sizeOf(body)}); query: ${shown}`,
    );
  }
  if (body.data?.resultType !== 'vector' || !Array.isArray(body.data.result)) {
    throw new PrometheusSourceError('bad_answer', `Prometheus at ${base} answered an instant query with ${String(body.data?.resultType)}, not a vector`);
  }
  return body.data.result as PromVectorItem[];
}

/** Reads replicas' engine metrics from Prometheus; see the module comment for the label convention. */
export function prometheusSource(opts: PrometheusSourceOptions): MetricSource {
  const base = stripSlashes(opts.url);
  const replicaLabel = opts.replicaLabel ?? 'replica';
  if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(replicaLabel)) throw new PrometheusSourceError('config', `replicaLabel ${JSON.stringify(replicaLabel)} is not a label name`);
  if (opts.jobSelector && opts.jobSelector.trim() !== '' && !PROMQL_MATCHERS.test(opts.jobSelector)) {
    throw new PrometheusSourceError('config', `jobSelector ${JSON.stringify(opts.jobSelector)} is not a list of PromQL label matchers (e.g. job="vllm")`);
  }

  return {
    kind: 'prometheus',
    async sample(engine: EngineType, replicas: string[], signal?: AbortSignal): Promise<EngineSample> {
      if (replicas.length === 0) throw new PrometheusSourceError('config', 'no replicas to sample');
      const adapter = adapterFor(engine);

      // label value → replica address (one address may have several spellings)
      const byValue = new Map<string, string>();
      const clashes = new Set<string>();
      for (const address of new Set(replicas)) {
        for (const v of replicaLabelValues(address, replicaLabel)) {
          const other = byValue.get(v);
          if (other !== undefined && other !== address) clashes.add(other).add(address);
          else byValue.set(v, address);
        }
      }
      if (clashes.size > 0) {
        throw new PrometheusSourceError(
          'ambiguous_replicas',
          `replicas ${[...clashes].join(', ')} share one ${replicaLabel} label value in Prometheus, so their series cannot be told apart; label each target with its replica address (replicaLabel "replica")`,
          [...clashes],
        );
      }

      const query = buildQuery(engine, [...byValue.keys()], replicaLabel, opts.jobSelector);
      const result = await runQuery(opts, base, query, signal);

      type Seen = { series: Array<{ name: string; labels: Record<string, string>; value: number }>; up?: number; scrapedAtMs?: number; evalMs: number };
      const seen = new Map<string, Seen>();
      for (const item of result) {
        const address = byValue.get(item.metric?.[replicaLabel] ?? '');
        if (address === undefined || !Array.isArray(item.value)) continue;
        const value = parsePromFloat(String(item.value[1]));
        if (value === undefined) continue;
        let s = seen.get(address);
        if (!s) seen.set(address, (s = { series: [], evalMs: Number(item.value[0]) * 1000 }));
        const mark = item.metric[SCRAPE_LABEL];
        if (mark === 'up') s.up = Math.min(s.up ?? Infinity, value);
        else if (mark === 'timestamp') s.scrapedAtMs = Math.min(s.scrapedAtMs ?? Infinity, value * 1000);
        else s.series.push({ name: item.metric.__name__ ?? '', labels: ownLabels(item.metric, replicaLabel), value });
      }

      const missing: string[] = [];
      const reasons: string[] = [];
      for (const address of new Set(replicas)) {
        const s = seen.get(address);
        const where = `${replicaLabel}=${JSON.stringify(replicaLabelValues(address, replicaLabel)[0])}`;
        let reason: string | undefined;
        if (!s) reason = `no series with ${where} (is it a target of this Prometheus, labelled that way?)`;
        else if (s.up === 0) reason = `Prometheus' last scrape of it failed (up=0)`;
        else if (s.series.length === 0) reason = `scraped (${where}) but no ${ENGINE_METRIC_PREFIXES[engine].join('/')}* series: not a ${engine} replica?`;
        if (reason) {
          missing.push(address);
          reasons.push(`${address}: ${reason}`);
        }
      }
      if (missing.length > 0) {
        throw new PrometheusSourceError(
          'missing_replicas',
          `Prometheus at ${base} has no current ${engine} metrics for ${missing.length} of ${new Set(replicas).size} replica(s): ${reasons.join('; ')}`,
          missing,
        );
      }

      const perReplica = new Map<string, EngineSample>();
      for (const [address, s] of seen) {
        const at = s.scrapedAtMs !== undefined && Number.isFinite(s.scrapedAtMs) ? s.scrapedAtMs : s.evalMs;
        perReplica.set(address, adapter.toSample(seriesToFamilies(s.series), at));
      }
      // Over the list as given, so a repeated address counts as often as sampleReplicas counts it.
      return mergeSamples(replicas.map((a) => perReplica.get(a) as EngineSample));
    },
  };
}

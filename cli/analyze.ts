/**
 * `servetune analyze`: read one or two `/metrics` pages (saved files or live replicas), and print
 * what the agent would see — the engine-neutral snapshot, the bottlenecks, the health score and
 * the engine-flag changes the planner would propose. Nothing is pushed anywhere.
 *
 * `analyzePages` is the whole analysis as a pure function of the pages (tests call it directly);
 * `runAnalyze` gathers the pages (files, scrapes, the replica agent's config) and prints.
 */
import fs from 'fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { toBaseUrl } from '../activities/replicaAddress';
import { detectBottlenecks } from '../core/bottlenecks';
import { DEFAULT_SLO, healthScore, type Slo } from '../core/healthScore';
import { planWithSkips, rulesFor } from '../core/planner';
import {
  MetricsParseError,
  adapterFor,
  parsePrometheusText,
  snapshotBetween,
  snapshotOf,
  vllmArgsFromPage,
  vllmFactsFromPage,
  type EngineSample,
  type MetricFamily,
} from '../metrics';
import {
  EngineTypeSchema,
  ReplicaConfigSchema,
  type Bottleneck,
  type EngineArgs,
  type EngineType,
  type HealthScore,
  type OptimizationPlan,
  type Snapshot,
  type SnapshotMetric,
} from '../models';
import { formatAnalysis } from './format';
import { CliError, EXIT, type CliIO } from './io';

/** One `/metrics` page and when it was read. */
export interface MetricsPage {
  text: string;
  /** When the page was read, ms since the epoch (scrape time, or a saved file's modification time). */
  at_ms: number;
  /** Where it came from, for messages: a file path or the scraped URL. */
  source: string;
}

export interface AnalyzeInput {
  engine: EngineType;
  /** One page (lifetime analysis) or two pages of the same replica, the earlier first (windowed). */
  pages: readonly MetricsPage[];
  /**
   * The replica's current engine args when known from its agent (or the engine's own config route);
   * otherwise read from the page where possible. `complete`: they are the whole config, so a flag
   * they leave out runs at the engine's default (default true when given).
   */
  currentArgs?: { args: EngineArgs; source: string; complete?: boolean };
  /** Revision name the proposed config would get. */
  revision?: string;
  slo?: Slo;
}

export interface AnalyzeResult {
  engine: EngineType;
  samples: Array<{ source: string; at: string }>;
  snapshot: Snapshot;
  bottlenecks: Bottleneck[];
  health: HealthScore;
  /** What the plan started from, and where that came from ("none" → the engine's defaults). */
  current_args: { source: string; args: EngineArgs };
  plan: OptimizationPlan;
  /** Caveats a reader needs to read the numbers right (missing metrics, single sample, …). */
  notes: string[];
}

export const ANALYZE_REVISION = 'servetune-analyze';

/** Metric-name prefixes that identify an engine's page, to suggest the right --engine. */
const ENGINE_PREFIXES: Array<[EngineType, RegExp]> = [
  ['vllm', /^(ray_)?vllm:/],
  ['tgi', /^tgi_/],
  ['sglang', /^sglang:/],
];

const RATE_METRICS: ReadonlySet<SnapshotMetric> = new Set<SnapshotMetric>(['request_rate', 'preemptions_per_second', 'generation_tokens_per_second']);

function parsePage(page: MetricsPage): MetricFamily[] {
  try {
    return parsePrometheusText(page.text);
  } catch (e) {
    if (e instanceof MetricsParseError) throw new CliError(`${page.source} is not a valid Prometheus metrics page: ${e.message}`);
    throw e;
  }
}

function isEmpty(s: EngineSample): boolean {
  return Object.keys(s.counters).length + Object.keys(s.gauges).length + Object.keys(s.histograms).length === 0;
}

function engineHint(families: readonly MetricFamily[], engine: EngineType): string {
  const seen = ENGINE_PREFIXES.filter(([e, re]) => e !== engine && families.some((f) => re.test(f.name))).map(([e]) => e);
  return seen.length > 0 ? ` (the page looks like ${seen.join('/')}: try --engine ${seen[0]})` : '';
}

/** The analysis of one or two pages of one replica. Throws `CliError` for unusable input. */
export function analyzePages(input: AnalyzeInput): AnalyzeResult {
  const { engine, pages } = input;
  if (!EngineTypeSchema.safeParse(engine).success) throw new CliError(`unknown engine ${JSON.stringify(engine)} (expected vllm, tgi or sglang)`, EXIT.usage);
  if (pages.length < 1 || pages.length > 2) throw new CliError(`analyze takes one or two pages, got ${pages.length}`, EXIT.usage);
  const adapter = adapterFor(engine);
  const notes: string[] = [];

  const parsed = pages.map((page) => {
    const families = parsePage(page);
    const sample = adapter.toSample(families, page.at_ms);
    if (isEmpty(sample)) notes.push(`no ${engine} metric was recognised on ${page.source}${engineHint(families, engine)}`);
    return { page, families, sample };
  });

  let snapshot: Snapshot;
  if (parsed.length === 2) {
    const [a, b] = parsed;
    if (b.page.at_ms < a.page.at_ms) {
      throw new CliError(
        `the second sample (${b.page.source}, ${iso(b.page.at_ms)}) is older than the first (${a.page.source}, ${iso(a.page.at_ms)}): give the earlier page first, or set --interval`,
        EXIT.usage,
      );
    }
    snapshot = snapshotBetween(a.sample, b.sample);
    if (snapshot.window_seconds === 0) notes.push('both samples have the same time: per-second rates are unavailable (set --interval for saved files)');
  } else {
    snapshot = snapshotOf(parsed[0].sample);
    notes.push('one sample: quantiles and ratios cover everything since the engine started, and rates need a second sample');
  }

  const missing = (Object.keys(snapshot) as Array<keyof Snapshot>)
    .filter((k): k is SnapshotMetric => k !== 'window_seconds' && k !== 'replicas')
    .filter((k) => snapshot[k] === null && !(parsed.length === 1 && RATE_METRICS.has(k)));
  if (missing.length > 0) notes.push(`no data (not exposed, or no traffic in the window): ${missing.join(', ')}`);
  if (engine === 'tgi') notes.push('TGI exposes no time-to-first-token metric, so TTFT is always n/a; its ITL is the per-request mean time per token');

  const slo = input.slo ?? DEFAULT_SLO;
  const bottlenecks = detectBottlenecks(snapshot, slo);
  const health = healthScore(snapshot, slo);
  if (health.score === null) notes.push('health score: no data (half or more of its components have no value)');

  const lastFamilies = parsed[parsed.length - 1].families;
  const fromPage = engine === 'vllm' ? vllmArgsFromPage(lastFamilies) : null;
  const current_args =
    input.currentArgs ??
    (fromPage ? { source: 'page: vllm:cache_config_info', args: fromPage } : { source: 'none (not reported)', args: {} });
  // Only an agent's (or the engine's own) report is the whole config; a page shows a few flags, and
  // a flag it does not show runs at a value the analysis cannot see (not necessarily the default).
  const argsComplete = input.currentArgs ? input.currentArgs.complete !== false : false;
  const facts = engine === 'vllm' ? vllmFactsFromPage(lastFamilies) : {};
  if (typeof current_args.args.kv_cache_memory_bytes === 'number') facts.kv_cache_memory_bytes = current_args.args.kv_cache_memory_bytes;
  const { plan, skipped } = planWithSkips({
    engine,
    snapshot,
    bottlenecks,
    currentArgs: current_args.args,
    revision: input.revision ?? ANALYZE_REVISION,
    argsComplete,
    facts,
  });
  for (const s of skipped) notes.push(`${s.parameter}: ${s.why}`);

  return {
    engine,
    samples: pages.map((p) => ({ source: p.source, at: iso(p.at_ms) })),
    snapshot,
    bottlenecks,
    health,
    current_args: { source: current_args.source, args: current_args.args },
    plan,
    notes,
  };
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

// ---------------------------------------------------------------------------------------------
// Gathering pages

export interface SampleSource {
  kind: 'file' | 'url';
  value: string;
}

export interface AnalyzeOptions {
  engine: EngineType;
  /** --file and --url values in command-line order. */
  sources: SampleSource[];
  intervalSeconds: number;
  /** Whether --interval was given (it then also sets the time between two saved pages). */
  intervalGiven: boolean;
  json: boolean;
}

export interface AnalyzeDeps {
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** Per-request timeout for scrapes and the agent's config. */
  timeoutMs: number;
}

const defaultDeps: AnalyzeDeps = {
  fetch: (...args) => fetch(...args),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
  timeoutMs: 10_000,
};

/** The replica's base URL: `host:port` or a URL, with a trailing `/metrics` accepted and dropped. */
export function replicaBase(url: string): string {
  const base = toBaseUrl(url).replace(/\/metrics$/, '');
  try {
    const u = new URL(base);
    if (!u.hostname) throw new Error('no host');
  } catch {
    throw new CliError(`--url ${JSON.stringify(url)} is not a replica address (expected host:port or http(s)://host:port[/path])`, EXIT.usage);
  }
  return base;
}

/** Errors from Node internals may come from another realm, so they are read by shape, not `instanceof`. */
interface ErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: ErrorShape;
}
const shape = (e: unknown): ErrorShape => (typeof e === 'object' && e !== null ? (e as ErrorShape) : {});
const messageOf = (e: unknown): string => (typeof shape(e).message === 'string' && shape(e).message ? String(shape(e).message) : String(e));

function describeFsError(e: unknown): string {
  const code = shape(e).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return messageOf(e);
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  const { name, cause } = shape(e);
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  // fetch() rejects with "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, …) is in its cause.
  if (cause && typeof cause.message === 'string' && cause.message) return cause.message;
  if (cause && typeof cause.code === 'string') return cause.code;
  return messageOf(e);
}

async function readPageFile(file: string): Promise<MetricsPage> {
  try {
    const [text, stat] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    return { text, at_ms: stat.mtimeMs, source: file };
  } catch (e) {
    throw new CliError(`cannot read --file ${file}: ${describeFsError(e)}`);
  }
}

async function get(url: string, deps: AnalyzeDeps): Promise<Response> {
  try {
    return await deps.fetch(url, { signal: AbortSignal.timeout(deps.timeoutMs), redirect: 'follow' });
  } catch (e) {
    throw new CliError(`cannot reach ${url}: ${describeFetchError(e, deps.timeoutMs)}`);
  }
}

async function scrape(base: string, deps: AnalyzeDeps): Promise<MetricsPage> {
  const url = `${base}/metrics`;
  const res = await get(url, deps);
  if (!res.ok) throw new CliError(`${url} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  let text: string;
  try {
    text = await res.text();
  } catch (e) {
    throw new CliError(`cannot read the answer of ${url}: ${describeFetchError(e, deps.timeoutMs)}`);
  }
  return { text, at_ms: deps.now(), source: url };
}

/** The replica agent's config, or a note saying why it is not used. */
async function agentArgs(base: string, engine: EngineType, deps: AnalyzeDeps): Promise<{ args?: AnalyzeInput['currentArgs']; note?: string }> {
  const url = `${base}/servetune/v1/config`;
  try {
    const res = await deps.fetch(url, { signal: AbortSignal.timeout(deps.timeoutMs) });
    if (!res.ok) return { note: `no servetune agent config at ${url} (HTTP ${res.status})` };
    const parsed = ReplicaConfigSchema.safeParse(await res.json());
    if (!parsed.success) return { note: `${url} did not answer a servetune agent config` };
    const note = parsed.data.engine !== engine ? `the agent at ${url} reports engine ${parsed.data.engine}, not ${engine}` : undefined;
    return { args: { source: `agent: ${url} (revision ${parsed.data.revision})`, args: parsed.data.engine_args }, note };
  } catch (e) {
    return { note: `no servetune agent config at ${url}: ${describeFetchError(e, deps.timeoutMs)}` };
  }
}

/** The engine's own config route, for replicas without a servetune agent. */
export const ENGINE_CONFIG_ROUTES: Partial<Record<EngineType, string>> = { tgi: '/info', sglang: '/get_server_info' };

/**
 * Picks the flags the planner knows out of an engine's own config document (TGI's `/info`,
 * SGLang's `/get_server_info`): both name their fields after the launcher's flags.
 */
export function argsFromEngineConfig(engine: EngineType, body: unknown): EngineArgs {
  if (!body || typeof body !== 'object') return {};
  const known = new Set(rulesFor(engine).map((r) => r.parameter));
  const args: EngineArgs = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (known.has(key) && (value === null || ['string', 'number', 'boolean'].includes(typeof value))) args[key] = value as EngineArgs[string];
  }
  return args;
}

async function engineConfigArgs(base: string, engine: EngineType, deps: AnalyzeDeps): Promise<{ args?: AnalyzeInput['currentArgs']; note?: string }> {
  const route = ENGINE_CONFIG_ROUTES[engine];
  if (!route) return {};
  const url = `${base}${route}`;
  try {
    const res = await deps.fetch(url, { signal: AbortSignal.timeout(deps.timeoutMs) });
    if (!res.ok) return { note: `no engine config at ${url} (HTTP ${res.status})` };
    return { args: { source: `engine: ${url}`, args: argsFromEngineConfig(engine, await res.json()) } };
  } catch (e) {
    return { note: `no engine config at ${url}: ${describeFetchError(e, deps.timeoutMs)}` };
  }
}

/** Reads the pages the options name (scraping twice for a single --url) and analyzes them. */
export async function runAnalyze(opts: AnalyzeOptions, deps: AnalyzeDeps = defaultDeps): Promise<AnalyzeResult> {
  const { sources } = opts;
  if (sources.length === 0) throw new CliError('give a page with --file PAGE or a replica with --url REPLICA', EXIT.usage);
  if (sources.length > 2) throw new CliError(`at most two samples: --file/--url given ${sources.length} times`, EXIT.usage);
  if (!(opts.intervalSeconds > 0)) throw new CliError(`--interval must be a positive number of seconds`, EXIT.usage);
  const bases = sources.map((s) => (s.kind === 'url' ? replicaBase(s.value) : ''));
  const intervalMs = opts.intervalSeconds * 1000;

  const pages: MetricsPage[] = [];
  if (sources.length === 1 && sources[0].kind === 'url') {
    pages.push(await scrape(bases[0], deps));
    await deps.sleep(intervalMs);
    pages.push(await scrape(bases[0], deps));
  } else {
    for (let i = 0; i < sources.length; i++) {
      const src = sources[i];
      if (i > 0 && src.kind === 'url' && sources[i - 1].kind === 'url') await deps.sleep(intervalMs);
      pages.push(src.kind === 'file' ? await readPageFile(src.value) : await scrape(bases[i], deps));
    }
    // A saved page's time is its file's modification time, unless --interval says how far apart they are.
    if (pages.length === 2 && opts.intervalGiven && sources.some((s) => s.kind === 'file')) {
      pages[1] = { ...pages[1], at_ms: pages[0].at_ms + intervalMs };
    }
  }

  const lastUrl = [...bases].reverse().find((b) => b !== '');
  const extraNotes: string[] = [];
  let currentArgs: AnalyzeInput['currentArgs'];
  if (lastUrl) {
    const agent = await agentArgs(lastUrl, opts.engine, deps);
    currentArgs = agent.args;
    if (agent.note) extraNotes.push(agent.note);
    if (!currentArgs) {
      const own = await engineConfigArgs(lastUrl, opts.engine, deps);
      currentArgs = own.args;
      if (own.note) extraNotes.push(own.note);
    }
  }
  const result = analyzePages({ engine: opts.engine, pages, currentArgs });
  result.notes.push(...extraNotes);
  return result;
}

// ---------------------------------------------------------------------------------------------
// The command

function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 3600) throw new InvalidArgumentError('expected a number of seconds in (0, 3600].');
  return n;
}

export function registerAnalyze(program: Command, io: CliIO, deps: AnalyzeDeps = defaultDeps): Command {
  // --file and --url share one list so their relative order (which sample is first) survives.
  const sources: SampleSource[] = [];
  const collect = (kind: SampleSource['kind']) => (value: string) => {
    sources.push({ kind, value });
    return sources.filter((s) => s.kind === kind).map((s) => s.value);
  };
  return program
    .command('analyze')
    .description('analyze one or two /metrics samples of a replica: snapshot, bottlenecks, health score and proposed engine-flag changes')
    .addOption(new Option('--engine <engine>', 'inference engine of the replica').choices(['vllm', 'tgi', 'sglang']).makeOptionMandatory())
    .option('--file <page>', 'a saved /metrics page; give it twice (earlier page first) for a windowed analysis', collect('file'))
    .option('--url <replica>', 'a replica (host:port or URL) to scrape at <url>/metrics; alone, it is scraped twice --interval apart', collect('url'))
    .option(
      '--interval <seconds>',
      'seconds between the two scrapes of --url (default 5); with saved files, the time between the two pages (default: their modification times)',
      parseSeconds,
      5,
    )
    .option('--json', 'print one JSON object {engine, snapshot, bottlenecks, health, plan, …} instead of text')
    .addHelpText(
      'after',
      `
Examples:
  servetune analyze --engine vllm --file metrics.prom
  servetune analyze --engine sglang --file before.prom --file after.prom --interval 30
  servetune analyze --engine tgi --url 10.0.0.7:8080 --interval 10 --json

Exit codes: 0 analyzed; 1 unreadable file, unreachable replica or malformed page; 2 bad command line.`,
    )
    .action(async (options: { engine: EngineType; interval: number; json?: boolean }, command: Command) => {
      const result = await runAnalyze(
        {
          engine: options.engine,
          sources: [...sources],
          intervalSeconds: options.interval,
          intervalGiven: command.getOptionValueSource('interval') === 'cli',
          json: options.json === true,
        },
        deps,
      );
      io.out(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatAnalysis(result));
    });
}

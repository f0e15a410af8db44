/** Human-readable output of the CLI: compact aligned text, `n/a` for metrics with no data. */
import type { AnalyzeResult } from './analyze';

const NA = 'n/a';

function num(v: number | null, digits = 1): string {
  return v === null ? NA : v.toFixed(digits);
}

const ms = (v: number | null) => (v === null ? NA : `${v.toFixed(1)} ms`);
const pct = (v: number | null, digits = 1) => (v === null ? NA : `${(v * 100).toFixed(digits)} %`);
const perSecond = (v: number | null) => (v === null ? NA : `${v.toFixed(2)}/s`);

/** A value in the unit its metric name implies. */
export function formatMetric(metric: string, v: number | null): string {
  if (v === null) return NA;
  if (metric.endsWith('_ms')) return ms(v);
  if (metric === 'error_rate' || metric === 'kv_cache_usage' || metric === 'prefix_cache_hit_rate') return pct(v, 2);
  if (metric.endsWith('_per_second')) return perSecond(v);
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

function argValue(v: string | number | boolean | null | undefined): string {
  return v === null || v === undefined ? 'default' : String(v);
}

/** Rows of cells as left-aligned columns, two spaces apart, indented. */
export function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd())
    .join('\n');
}

export function formatAnalysis(r: AnalyzeResult): string {
  const s = r.snapshot;
  const out: string[] = [];
  const windowed = r.samples.length === 2;
  out.push(`servetune analyze: ${r.engine}, ${windowed ? `window of ${num(s.window_seconds)} s` : 'one sample (totals since engine start)'}`);
  out.push(table(r.samples.map((x, i) => [`sample ${i + 1}`, x.at, x.source])));

  out.push('', 'Snapshot');
  out.push(
    table([
      ['replicas', String(s.replicas)],
      ['requests', `${perSecond(s.request_rate)}  running ${num(s.requests_running, 0)}  waiting ${num(s.requests_waiting, 0)}`],
      ['error rate', pct(s.error_rate, 2)],
      ['TTFT p50/p95/p99', `${ms(s.ttft_p50_ms)} / ${ms(s.ttft_p95_ms)} / ${ms(s.ttft_p99_ms)}`],
      ['ITL p50/p95', `${ms(s.itl_p50_ms)} / ${ms(s.itl_p95_ms)}`],
      ['e2e p95', ms(s.e2e_p95_ms)],
      ['generation tokens', perSecond(s.generation_tokens_per_second)],
      ['KV cache usage', pct(s.kv_cache_usage)],
      ['preemptions', perSecond(s.preemptions_per_second)],
      ['prefix cache hits', pct(s.prefix_cache_hit_rate)],
    ]),
  );

  out.push('', `Health: ${r.health.score === null ? 'no data' : `${r.health.score.toFixed(1)} / 100`}`);
  out.push(
    table([
      ['component', 'metric', 'value', 'target', 'weight', 'score'],
      ...r.health.components.map((c) => [
        c.name,
        c.metric,
        formatMetric(c.metric, c.value),
        formatMetric(c.metric, c.target),
        c.weight.toFixed(2),
        num(c.score),
      ]),
    ]),
  );

  out.push('', `Bottlenecks: ${r.bottlenecks.length === 0 ? 'none' : r.bottlenecks.length}`);
  if (r.bottlenecks.length > 0) {
    out.push(
      table(r.bottlenecks.map((b) => [b.kind, `${b.metric} ${formatMetric(b.metric, b.value)} (threshold ${formatMetric(b.metric, b.threshold)})`, b.description])),
    );
  }

  const plan = r.plan;
  out.push('', `Plan: ${plan.optimizations.length === 0 ? 'no change proposed' : `${plan.optimizations.length} change(s), estimated improvement ${plan.estimated_total_improvement}`}`);
  out.push(`  current args from ${r.current_args.source}${Object.keys(r.current_args.args).length > 0 ? `: ${JSON.stringify(r.current_args.args)}` : ''}`);
  if (plan.optimizations.length > 0) {
    out.push(
      table(
        plan.optimizations.map((o) => [
          o.parameter,
          `${argValue(o.current)} -> ${argValue(o.proposed)}`,
          `+${o.expected_improvement_pct[0]}-${o.expected_improvement_pct[1]}%`,
          `${o.reason} (for ${o.addresses})`,
        ]),
      ),
    );
  }

  if (r.notes.length > 0) {
    out.push('', 'Notes');
    for (const n of r.notes) out.push(`  - ${n}`);
  }
  return `${out.join('\n')}\n`;
}

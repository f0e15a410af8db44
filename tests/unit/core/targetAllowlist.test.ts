import { parseTarget, type TargetAddress } from '../../../core/targetAddress';
import { checkResolvedAddress, checkTarget, DEFAULT_ALLOWED_TARGETS, parseAllowlist, type Allowlist } from '../../../core/targetAllowlist';

function allowlist(spec: string): Allowlist {
  const { allowlist: list, problems } = parseAllowlist(spec);
  expect(problems).toEqual([]);
  return list;
}

function target(text: string): TargetAddress {
  const parsed = parseTarget(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.target;
}

test('parseAllowlist names every entry it cannot read', () => {
  const { allowlist: list, problems } = parseAllowlist(' simulator , *.vllm.internal:8000, 10.0.0.0/8, [::1]:9000, fd00::/8,, 10.0.0.7:80, nope/8, bad host, [simulator]:80, x:99999, 10.0.0.0/40, 1.2.3.999, a..b');
  expect(list.entries.map((e) => (e.kind === 'name' ? `${e.wildcard ? '*.' : ''}${e.name}:${e.port}` : `net:${e.port}`))).toEqual([
    'simulator:null',
    '*.vllm.internal:8000',
    'net:null',
    'net:9000',
    'net:null',
    'net:80',
  ]);
  expect(problems).toHaveLength(7);
  expect(problems[0]).toContain('"nope/8" is not a host name');
});

describe('checkTarget: always-refused targets, then the allowlist', () => {
  const list = allowlist('simulator:8000,*.vllm.internal,10.0.0.0/8,[::1]:9000');
  it.each<[string, string | null]>([
    ['simulator:8000', null],
    ['simulator:8001', 'simulator port 8001 is not in the allowed targets'],
    ['a.vllm.internal:1234', null],
    ['vllm.internal:1234', 'vllm.internal port 1234 is not in the allowed targets'],
    ['evilvllm.internal:80', 'not in the allowed targets'],
    ['10.1.2.3:80', null],
    ['[::ffff:10.1.2.3]:80', null],
    ['11.0.0.1:80', '11.0.0.1 port 80 is not in the allowed targets'],
    ['[::1]:9000', null],
    ['[::1]:9001', 'not in the allowed targets'],
    ['169.254.169.254:80', 'link-local'],
    ['[::ffff:169.254.169.254]:80', 'link-local'],
    ['[fe80::1]:80', 'link-local'],
    ['100.100.100.200:80', 'metadata'],
    ['[fd00:ec2::254]:80', 'metadata'],
    ['0.0.0.0:80', 'unspecified'],
    ['[::]:80', 'unspecified'],
    ['224.0.0.1:80', 'multicast'],
    ['[ff02::1]:80', 'multicast'],
    ['255.255.255.255:80', 'broadcast'],
    ['metadata.google.internal:80', 'metadata host name'],
  ])('%s', (text, reason) => {
    const decision = checkTarget(target(text), list);
    expect(decision.allowed ? null : decision.reason).toEqual(reason === null ? null : expect.stringContaining(reason));
  });

  it('the default allows loopback only', () => {
    const defaults = allowlist(DEFAULT_ALLOWED_TARGETS);
    for (const ok of ['localhost:8000', '127.0.0.1:1', '127.9.9.9:80', '[::1]:80']) expect(checkTarget(target(ok), defaults).allowed).toBe(true);
    for (const no of ['10.0.0.1:80', 'example.com:80', '[::2]:80', 'localhost.example:80']) expect(checkTarget(target(no), defaults).allowed).toBe(false);
  });
});

describe('checkResolvedAddress: where a name really points', () => {
  const list = allowlist('simulator,*.vllm.internal,10.0.0.0/8');
  it.each<[string, string, string | null]>([
    ['simulator', '172.18.0.5', null],
    ['Simulator.', '172.18.0.5', null],
    ['a.vllm.internal', '172.18.0.5', 'outside the allowed addresses and networks'],
    ['a.vllm.internal', '10.2.3.4', null],
    ['a.vllm.internal', '::ffff:10.2.3.4', null],
    ['simulator', '169.254.169.254', 'link-local'],
    ['simulator', '::ffff:169.254.169.254', 'resolved to 169.254.169.254'],
    ['simulator', 'fe80::1', 'link-local'],
    ['simulator', '0.0.0.0', 'unspecified'],
    ['simulator', 'not-an-ip', 'not an IP address'],
  ])('%s → %s', (host, address, reason) => {
    const problem = checkResolvedAddress(host, address, list);
    expect(problem).toEqual(reason === null ? null : expect.stringContaining(reason));
  });
});

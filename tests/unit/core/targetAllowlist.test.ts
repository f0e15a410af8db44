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

  it('says whether the name was listed exactly (its DNS is trusted) or through a wildcard', () => {
    expect(checkTarget(target('simulator:8000'), list)).toEqual({ allowed: true, listedByExactName: true });
    expect(checkTarget(target('a.vllm.internal:80'), list)).toEqual({ allowed: true, listedByExactName: false });
    expect(checkTarget(target('10.0.0.1:80'), list)).toEqual({ allowed: true, listedByExactName: false });
  });

  it('the default allows loopback only', () => {
    const defaults = allowlist(DEFAULT_ALLOWED_TARGETS);
    for (const ok of ['localhost:8000', '127.0.0.1:1', '127.9.9.9:80', '[::1]:80']) expect(checkTarget(target(ok), defaults).allowed).toBe(true);
    for (const no of ['10.0.0.1:80', 'example.com:80', '[::2]:80', 'localhost.example:80']) expect(checkTarget(target(no), defaults).allowed).toBe(false);
  });
});

describe('checkResolvedAddress: where a name really points', () => {
  const list = allowlist('simulator,*.vllm.internal,10.0.0.0/8');
  it.each<[string, boolean, string | null]>([
    ['172.18.0.5', true, null],
    ['172.18.0.5', false, 'outside the allowed addresses and networks'],
    ['10.2.3.4', false, null],
    ['::ffff:10.2.3.4', false, null],
    ['169.254.169.254', true, 'link-local'],
    ['::ffff:169.254.169.254', true, 'resolved to 169.254.169.254'],
    ['fe80::1', true, 'link-local'],
    ['0.0.0.0', true, 'unspecified'],
    ['not-an-ip', true, 'not an IP address'],
  ])('%s (listed by exact name: %s)', (address, exact, reason) => {
    const problem = checkResolvedAddress(address, list, exact);
    expect(problem).toEqual(reason === null ? null : expect.stringContaining(reason));
  });
});

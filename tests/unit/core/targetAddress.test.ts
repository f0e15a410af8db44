import { canonicalDeploymentKey, parseTarget, targetUrl } from '../../../core/targetAddress';

describe('parseTarget accepts host:port and http(s) URLs', () => {
  it.each<[string, string]>([
    ['localhost:8000', 'http://localhost:8000'],
    ['LOCALHOST:8000', 'http://localhost:8000'],
    ['localhost.:8000', 'http://localhost:8000'],
    ['127.0.0.1:8000/replicas/3', 'http://127.0.0.1:8000/replicas/3'],
    ['http://127.0.0.1:8000/', 'http://127.0.0.1:8000'],
    ['HTTPS://Vllm.Example', 'https://vllm.example:443'],
    ['http://vllm.example', 'http://vllm.example:80'],
    ['http://[::1]:8000/x/', 'http://[::1]:8000/x'],
    ['[::1]:8000', 'http://[::1]:8000'],
    ['http://[::ffff:127.0.0.1]:8000', 'http://127.0.0.1:8000'],
    ['https://[2001:db8::1]', 'https://[2001:db8::1]:443'],
    ['replica_1.svc:9000', 'http://replica_1.svc:9000'],
  ])('%s → %s', (input, url) => {
    const parsed = parseTarget(input);
    expect(parsed.ok && targetUrl(parsed.target)).toBe(url);
  });
});

describe('parseTarget refuses everything else, saying why', () => {
  it.each<[string, RegExp]>([
    ['', /empty/],
    ['local host:80 00', /spaces/],
    ['localhost:8000\r\nX-Evil: 1', /control characters/],
    ['localhost:8000\u0000', /control characters/],
    ['localhost:8000\t', /control characters/],
    ['lócalhost:8000', /non-ASCII/],
    ['http://localhost:8000/?x=1', /query/],
    ['http://localhost:8000/#frag', /fragment/],
    ['http://localhost:8000\\@evil', /backslash/],
    ['file:///etc/passwd', /scheme file/],
    ['gopher://localhost:70', /scheme gopher/],
    ['http://user:pw@localhost:8000', /user information/],
    ['http://user@localhost:8000', /user information/],
    ['::1:8000', /brackets/],
    ['[::1]x', /not host:port/],
    ['[::1', /lacks the closing bracket/],
    ['http://[::1', /lacks the closing bracket/],
    ['[zz::1]:80', /not an IPv6 address/],
    ['localhost', /host:port or an http/],
    ['localhost:', /port \(empty\)/],
    ['localhost:http', /port http is not a number/],
    ['localhost:0', /out of range/],
    ['localhost:70000', /out of range/],
    ['http://2130706433:8000', /four decimal numbers/],
    ['http://0x7f000001', /four decimal numbers/],
    ['0177.0.0.1:80', /four decimal numbers/],
    ['127.1:80', /four decimal numbers/],
    ['http://', /not a valid host name/],
    ['-bad-.example:80', /not a valid host name/],
    ['http://a..b:80', /not a valid host name/],
    ['localhost:8000/../admin', /no "\." or "\.\." segments/],
    ['localhost:8000/a//b', /single "\/" separators/],
    ['localhost:8000/%2e%2e', /letters, digits/],
  ])('%j', (input, problem) => {
    const parsed = parseTarget(input);
    expect(parsed.ok ? 'accepted' : parsed.problem).toMatch(problem);
  });
});

describe('canonicalDeploymentKey: one key per deployment, whatever the spelling', () => {
  it.each<[string[], string]>([
    [['localhost:23000', '127.0.0.1:23000', 'http://localhost:23000', 'http://LOCALHOST:23000/', '127.0.0.7:23000', '[::1]:23000', 'http://[::ffff:127.0.0.1]:23000'], 'http://localhost:23000'],
    [['vllm.example:80', 'http://vllm.example', 'HTTP://Vllm.Example:80/'], 'http://vllm.example:80'],
    [['https://vllm.example', 'https://vllm.example:443'], 'https://vllm.example:443'],
    [['10.0.0.7:8000/replicas/3', 'http://10.0.0.7:8000/replicas/3/'], 'http://10.0.0.7:8000/replicas/3'],
    [['not a target'], 'not a target'],
  ])('%j → %s', (spellings, key) => {
    for (const s of spellings) expect(canonicalDeploymentKey(s)).toBe(key);
  });

  it('keeps different schemes, ports, hosts and paths apart', () => {
    const keys = ['http://localhost:8000', 'https://localhost:8000', 'localhost:8001', '10.0.0.1:8000', 'localhost:8000/a'].map(canonicalDeploymentKey);
    expect(new Set(keys).size).toBe(5);
  });
});

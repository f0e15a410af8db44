/**
 * The worker's half of issue 12.1: the activities' HTTP client (activities/httpClient.ts) refuses
 * every hostile target before any request, checks where host names resolve to at connect time,
 * follows no redirect, and copies nothing from a remote body into errors.
 *
 * All traffic stays on 127.0.0.1: names resolve through an injected resolver, and a safety net on
 * `net.Socket#connect` fails any connection to a non-loopback address (so a broken guard fails the
 * test with "safety net" instead of sending a packet anywhere).
 */
import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AxiosInstance } from 'axios';
import { agentConfigTarget } from '../../activities/configTarget';
import { discoverReplicaList } from '../../activities/discovery';
import { describeHttpError, isClientRefusal } from '../../activities/errors';
import { scrapeReplica } from '../../activities/fleetSampler';
import { createTargetHttpClient, TargetRefusedError, type ResolveAll } from '../../activities/httpClient';
import { prometheusSource, PrometheusSourceError } from '../../activities/prometheusSource';
import { parseAllowlist } from '../../core/targetAllowlist';
import { DEFAULT_HTTP_LIMITS } from '../../runtime/targetSettings';
import { startLoopbackServer, type LoopbackServer } from '../helpers/loopbackServer';

const SECRET = 'SECRET-INTERNAL-PAGE-TEXT';

// --- safety net: no connection leaves loopback, whatever the code under test does ---
const tripped: string[] = [];
const realConnect = net.Socket.prototype.connect;
function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || /^::ffff:127\./i.test(address);
}
type AnyLookup = (host: string, options: object, cb: (err: Error | null, address?: unknown, family?: number) => void) => void;
beforeAll(() => {
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const first = args[0] as unknown;
    const opts = (Array.isArray(first) ? first[0] : first) as { host?: string; lookup?: AnyLookup } | null;
    if (opts && typeof opts === 'object' && typeof opts.host === 'string') {
      if (net.isIP(opts.host) && !isLoopback(opts.host)) {
        tripped.push(opts.host);
        throw new Error(`safety net: connection to ${opts.host}`);
      }
      if (opts.lookup) {
        const inner = opts.lookup;
        opts.lookup = (host, options, cb) =>
          inner(host, options, (err, address, family) => {
            const list = Array.isArray(address) ? (address as Array<{ address: string }>).map((a) => a.address) : [address as string];
            const bad = err ? undefined : list.find((a) => !isLoopback(a));
            if (bad) {
              tripped.push(bad);
              return cb(new Error(`safety net: ${host} → ${bad}`));
            }
            return cb(err, address, family);
          });
      }
    }
    return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
});
afterAll(() => {
  net.Socket.prototype.connect = realConnect;
});

// --- names the injected resolver knows (anything else: ENOTFOUND) ---
const NAMES: Record<string, string[]> = {
  localhost: ['127.0.0.1'],
  'trap.test': ['127.0.0.1'],
  'exactmeta.test': ['169.254.169.254'],
  'loop.wild.test': ['127.0.0.1'],
  'meta.wild.test': ['169.254.169.254'],
  'private.wild.test': ['10.0.0.5'],
  'mixed.wild.test': ['127.0.0.1', '169.254.169.254'],
  'mapped.wild.test': ['::ffff:169.254.169.254'],
  'll6.wild.test': ['fe80::1'],
  'zero.wild.test': ['0.0.0.0'],
};
const resolved: string[] = [];
/** Flips between loopback and the metadata address on each lookup: a DNS-rebinding name. */
let rebindCount = 0;
const resolve: ResolveAll = (host, cb) => {
  resolved.push(host);
  const addresses = host === 'rebind.wild.test' ? [rebindCount++ % 2 === 0 ? '127.0.0.1' : '169.254.169.254'] : NAMES[host];
  if (!addresses) return cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }), []);
  cb(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
};

const allowlist = parseAllowlist('localhost,127.0.0.0/8,::1,trap.test,exactmeta.test,*.wild.test').allowlist;
const config = { revision: 'r1', engine: 'vllm', engine_args: {} };
const METRICS = '# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 1\n';

let trap: LoopbackServer;
let http: AxiosInstance;

beforeAll(async () => {
  trap = await startLoopbackServer((req, res) => {
    if (req.url?.endsWith('/metrics')) return void res.end(METRICS);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url?.includes('/replicas') ? { replicas: [`127.0.0.1:${trap.port}`] } : config));
  });
  http = createTargetHttpClient({ ...DEFAULT_HTTP_LIMITS, readDeadlineMs: 5000, allowlist, resolve });
});
afterAll(() => trap.close());

function hostile(port: number): Array<[string, string]> {
  return [
    ['metadata address', `169.254.169.254:${port}`],
    ['metadata URL', 'http://169.254.169.254/latest/meta-data/'],
    ['IPv6 link-local', `[fe80::1]:${port}`],
    ['IPv4-mapped metadata', `[::ffff:169.254.169.254]:${port}`],
    ['Alibaba metadata', `100.100.100.200:${port}`],
    ['AWS IPv6 metadata', `[fd00:ec2::254]:${port}`],
    ['0.0.0.0 (reaches loopback on Linux)', `0.0.0.0:${port}`],
    ['IPv6 unspecified', `[::]:${port}`],
    ['private address outside the allowlist', `10.0.0.7:${port}`],
    ['userinfo', `http://user:pw@127.0.0.1:${port}`],
    ['userinfo hiding the host', `http://127.0.0.1:${port}@169.254.169.254`],
    ['file scheme', 'file:///etc/passwd'],
    ['gopher scheme', `gopher://127.0.0.1:${port}/_x`],
    ['ftp scheme', `ftp://127.0.0.1:${port}`],
    ['query', `http://127.0.0.1:${port}/x?y=1`],
    ['fragment', `http://127.0.0.1:${port}/#frag`],
    ['decimal IPv4 of loopback', `2130706433:${port}`],
    ['hex-dotted IPv4', `0x7f.0.0.1:${port}`],
    ['hex IPv4', `0x7f000001:${port}`],
    ['octal IPv4', `0177.0.0.1:${port}`],
    ['short IPv4', `127.1:${port}`],
    ['leading-zero octet', `127.0.0.01:${port}`],
    ['metadata host name', `metadata.google.internal:${port}`],
    ['DNS name outside the allowlist', `evil.example:${port}`],
    ['loopback look-alike name', `localhost.evil.example:${port}`],
    ['CRLF', `127.0.0.1:${port}\r\nX-Injected: 1`],
    ['dot-dot path', `http://127.0.0.1:${port}/../admin`],
    ['IPv4-mapped metadata in hex groups', `[::ffff:a9fe:a9fe]:${port}`],
    ['IPv6 link-local, upper case', `http://[FE80::abcd]:${port}`],
    ['multicast', `224.0.0.1:${port}`],
    ['broadcast', `255.255.255.255:${port}`],
    ['javascript scheme', `javascript://127.0.0.1:${port}`],
    ['encoded dot-dot path', `http://127.0.0.1:${port}/%2e%2e/admin`],
    ['IPv6 outside the allowlist', `[2001:db8::1]:${port}`],
    ['public address outside the allowlist', `8.8.8.8:${port}`],
    ['bare metadata name', `metadata:${port}`],
    ['backslash', `http://127.0.0.1:${port}\\@evil.example`],
    ['allowed wildcard name resolving to metadata', `meta.wild.test:${port}`],
    ['allowed wildcard name resolving outside the networks', `private.wild.test:${port}`],
    ['one of several resolved addresses is metadata', `mixed.wild.test:${port}`],
    ['name resolving to IPv4-mapped metadata', `mapped.wild.test:${port}`],
    ['name resolving to IPv6 link-local', `ll6.wild.test:${port}`],
    ['name resolving to 0.0.0.0', `zero.wild.test:${port}`],
    ['exactly listed name resolving to metadata', `exactmeta.test:${port}`],
  ];
}

const asUrl = (address: string) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`);

describe('hostile targets: refused by every activity path, no request sent', () => {
  const table = hostile(1);
  test(`the table has ${table.length} targets`, () => expect(table.length).toBeGreaterThanOrEqual(40));

  describe.each(hostile(0).map(([what], i) => [what, i] as const))('%s', (_what, i) => {
    const address = () => hostile(trap.port)[i][1];
    const refused = async (p: Promise<unknown>) => {
      const err = await p.then(
        () => new Error('accepted'),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TargetRefusedError);
      expect(describeHttpError(err, 'x')).toMatch(/refused|resolved to/);
      expect(isClientRefusal(err)).toBe(true);
    };
    test('config read', () => refused(agentConfigTarget(http, 5000).read(address())));
    test('config push', () => refused(agentConfigTarget(http, 5000).push(address(), { revision: 'r2', engine_args: {} })));
    test('metrics scrape', () => refused(scrapeReplica(http, 'vllm', address())));
    test('discovery', () => refused(discoverReplicaList(http, address())));
    test('Prometheus URL', async () => {
      const err = await prometheusSource({ url: asUrl(address()), http })
        .sample('vllm', ['127.0.0.1:1'])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PrometheusSourceError);
      expect((err as PrometheusSourceError).kind).toBe('config');
      expect((err as PrometheusSourceError).retryable).toBe(false);
    });
  });

  test('nothing reached the trap server, no connection left loopback, names outside the allowlist were never resolved', () => {
    expect(trap.requests).toEqual([]);
    expect(tripped).toEqual([]);
    expect(resolved).not.toContain('evil.example');
    expect(resolved).not.toContain('localhost.evil.example');
    expect(resolved).toContain('meta.wild.test');
  });
});

describe('allowed targets still work (the controls)', () => {
  it.each(['127.0.0.1', 'localhost', 'trap.test', 'loop.wild.test'])('%s', async (host) => {
    const before = trap.requests.length;
    await expect(agentConfigTarget(http, 5000).read(`${host}:${trap.port}`)).resolves.toEqual(config);
    expect(trap.requests.length).toBe(before + 1);
  });

  it('a discovery answer listing a hostile replica: the listed address is refused before any request to it', async () => {
    const discovery = await startLoopbackServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ replicas: ['169.254.169.254:80', `127.0.0.1:${trap.port}`] }));
    });
    try {
      const listed = await discoverReplicaList(http, discovery.url);
      expect(listed[0]).toBe('169.254.169.254:80');
      await expect(agentConfigTarget(http, 5000).read(listed[0])).rejects.toBeInstanceOf(TargetRefusedError);
      const garbage = await startLoopbackServer((_req, res) => void res.end(JSON.stringify({ replicas: ['127.0.0.1:1', 'http://u@127.0.0.1:1'] })));
      await expect(discoverReplicaList(http, garbage.url)).rejects.toThrow(/discovery listed replicas\[1\], which must not contain user information/);
      await garbage.close();
    } finally {
      await discovery.close();
    }
    expect(tripped).toEqual([]);
  });

  it('DNS rebinding: a name that resolved to loopback once and to the metadata address next is refused the second time', async () => {
    rebindCount = 0;
    const target = agentConfigTarget(http, 5000);
    await expect(target.read(`rebind.wild.test:${trap.port}`)).resolves.toEqual(config);
    await expect(target.read(`rebind.wild.test:${trap.port}`)).rejects.toThrow(/rebind\.wild\.test resolved to 169\.254\.169\.254, a link-local address/);
    expect(tripped).toEqual([]);
  });
});

describe('redirects are never followed, and no remote body reaches an error', () => {
  let internal: LoopbackServer;
  let redirector: LoopbackServer;
  let status = 302;
  beforeAll(async () => {
    internal = await startLoopbackServer((_req, res) => void res.end(SECRET));
    redirector = await startLoopbackServer((_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(status, { location: `${internal.url}/admin/config`, 'content-type': 'text/plain' });
      res.end(`${SECRET}: moved to the admin page`);
    });
  });
  afterAll(async () => {
    await internal.close();
    await redirector.close();
  });

  const message = (err: unknown) => (err instanceof PrometheusSourceError ? err.message : describeHttpError(err, 'op'));

  describe.each([301, 302, 307, 308])('HTTP %i', (code) => {
    beforeEach(() => {
      status = code;
    });
    const cases: Array<[string, () => Promise<unknown>]> = [
      ['config read', () => agentConfigTarget(http, 5000).read(redirector.url)],
      ['config push (a 307/308 would repeat the PUT to the admin path)', () => agentConfigTarget(http, 5000).push(redirector.url, { revision: 'r2', engine_args: { x: 1 } })],
      ['metrics scrape', () => scrapeReplica(http, 'vllm', redirector.url)],
      ['discovery', () => discoverReplicaList(http, redirector.url)],
      ['Prometheus query', () => prometheusSource({ url: redirector.url, http }).sample('vllm', ['127.0.0.1:1'])],
    ];
    it.each(cases)('%s', async (_what, call) => {
      const err = await call().then(
        () => new Error('accepted'),
        (e: unknown) => e,
      );
      const text = message(err);
      expect(text).toContain(`HTTP ${code}`);
      expect(text).toMatch(/redirect, not followed/);
      expect(text).not.toContain(SECRET);
      if (!(err instanceof PrometheusSourceError)) expect(isClientRefusal(err)).toBe(true);
      expect(internal.requests).toEqual([]);
    });
  });

  it('an internal page given as a Prometheus URL: status and size only', async () => {
    const err = await prometheusSource({ url: internal.url, http })
      .sample('vllm', ['127.0.0.1:1'])
      .catch((e: unknown) => e as PrometheusSourceError);
    expect(err).toBeInstanceOf(PrometheusSourceError);
    expect((err as Error).message).toMatch(/did not answer as the query API \(HTTP 200, \d+ bytes\)$/);
    expect((err as Error).message).not.toContain(SECRET);
  });

  it('an internal page scraped as a replica: the parse error names the line, not its text', async () => {
    const err = await scrapeReplica(http, 'vllm', internal.url).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/metrics page of http:\/\/127\.0\.0\.1:\d+ is not Prometheus text: parse error at line 1 \(\d+ bytes\)/);
    expect((err as Error).message).not.toContain(SECRET);
  });

  it('a refusing replica: HTTP status and size, not its body', async () => {
    const refusing = await startLoopbackServer((_req, res) => {
      res.writeHead(422, { 'content-type': 'text/plain' });
      res.end(SECRET);
    });
    const err = await agentConfigTarget(http, 5000).push(refusing.url, { revision: 'r2', engine_args: {} }).catch((e: unknown) => e);
    await refusing.close();
    expect(describeHttpError(err, 'applying config to r')).toBe(`applying config to r: HTTP 422, ${SECRET.length} bytes`);
    expect(isClientRefusal(err)).toBe(true);
  });
});

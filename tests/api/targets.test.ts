/**
 * The gateway's half of issue 12.1: every address a request would make the worker call (instance_id,
 * each replica, metrics_source.url) is refused with a 400 naming the field unless it is well formed
 * and allowed by SERVETUNE_ALLOWED_TARGETS. The Temporal client is the recording fake of
 * validation.test.ts: a refused request must never reach it.
 */
import type { Client } from '@temporalio/client';
import supertest from 'supertest';
import { createApp } from '../../api/app';
import { parseAllowlist } from '../../core/targetAllowlist';
import { ErrorBodySchema } from '../../models';
import { allowedTargetsFromEnv } from '../../runtime/targetSettings';

const starts: unknown[] = [];
const fakeClient = {
  workflow: {
    start: async (_type: string, opts: unknown) => void starts.push(opts),
  },
} as unknown as Client;

const defaults = supertest(createApp(fakeClient, { taskQueue: 'targets', allowedTargets: allowedTargetsFromEnv({}) }));
const wide = supertest(createApp(fakeClient, { taskQueue: 'targets', allowedTargets: parseAllowlist('simulator:8000,*.vllm.internal,10.0.0.0/8,[fd00::7]:8000').allowlist }));

beforeEach(() => {
  starts.length = 0;
});

/** [what, address]: each is tried as instance_id, as replicas[3] and (when a URL) as metrics_source.url. */
const HOSTILE: Array<[string, string]> = [
  ['AWS/GCP/Azure metadata', 'http://169.254.169.254/latest/meta-data'],
  ['metadata as host:port', '169.254.169.254:80'],
  ['link-local', '169.254.1.1:8000'],
  ['IPv4-mapped metadata', 'http://[::ffff:169.254.169.254]/'],
  ['IPv4-mapped metadata, hex groups', 'http://[::ffff:a9fe:a9fe]/'],
  ['IPv6 link-local', 'http://[fe80::1]:8000'],
  ['IPv6 link-local upper case', 'http://[FE80::abcd]:8000'],
  ['AWS IPv6 metadata', 'http://[fd00:ec2::254]/'],
  ['Alibaba metadata', 'http://100.100.100.200/'],
  ['GCP metadata name', 'http://metadata.google.internal/computeMetadata/v1'],
  ['bare metadata name', 'metadata:80'],
  ['unspecified IPv4', '0.0.0.0:8000'],
  ['unspecified IPv6', '[::]:8000'],
  ['multicast', '224.0.0.1:8000'],
  ['broadcast', '255.255.255.255:8000'],
  ['userinfo', 'http://admin:secret@127.0.0.1:8000'],
  ['userinfo hiding the host', 'http://127.0.0.1:8000@169.254.169.254/'],
  ['file scheme', 'file:///etc/passwd'],
  ['gopher scheme', 'gopher://127.0.0.1:6379/_FLUSHALL'],
  ['ftp scheme', 'ftp://127.0.0.1/'],
  ['javascript-ish scheme', 'javascript://127.0.0.1/'],
  ['query', 'http://127.0.0.1:8000/?next=http://169.254.169.254'],
  ['fragment', 'http://127.0.0.1:8000/#x'],
  ['decimal IPv4', 'http://2130706433:8000'],
  ['octal IPv4', 'http://0177.0.0.1:8000'],
  ['hex IPv4', 'http://0x7f.0.0.1:8000'],
  ['hex IPv4, one number', 'http://0x7f000001:8000'],
  ['short IPv4', '127.1:8000'],
  ['leading-zero octet', '127.0.0.01:8000'],
  ['decimal metadata', 'http://2852039166/'],
  ['unbracketed IPv6', '::1:8000'],
  ['IPv6 zone index', 'http://[fe80::1%25eth0]:8000'],
  ['space', 'local host:80 00'],
  ['CRLF injection', 'localhost:8000\r\nHost: evil'],
  ['NUL', 'localhost:8000\u0000'],
  ['tab', '\tlocalhost:8000'],
  ['backslash', 'http://127.0.0.1:8000\\@evil.example'],
  ['dot-dot path', 'http://127.0.0.1:8000/../admin'],
  ['encoded dot-dot path', 'http://127.0.0.1:8000/%2e%2e/admin'],
  ['DNS name outside the allowlist', 'internal-admin.corp.example:80'],
  ['public address outside the allowlist', 'http://8.8.8.8/'],
  ['private address outside the allowlist', '10.0.0.7:8000'],
  ['loopback look-alike name', 'localhost.evil.example:8000'],
  ['IPv6 outside the allowlist', '[2001:db8::1]:8000'],
  ['empty', ''],
  ['port out of range', 'localhost:65536'],
];

function fields(res: supertest.Response): string[] {
  return res.body.error.details.map((d: { field: string }) => d.field);
}

function expectRefused(res: supertest.Response, field: string) {
  expect(res.status).toBe(400);
  expect(ErrorBodySchema.parse(res.body)).toEqual(res.body);
  expect(fields(res)).toContain(field);
  expect(starts).toEqual([]);
}

const base = { instance_type: 'vllm' };
const okReplicas = ['127.0.0.1:8001', '127.0.0.1:8002', '127.0.0.1:8003'];

test(`the hostile table has at least 40 targets (${HOSTILE.length})`, () => {
  expect(HOSTILE.length).toBeGreaterThanOrEqual(40);
});

describe.each(HOSTILE)('%s: %j', (_what, address) => {
  it('as instance_id → 400 naming instance_id', async () => {
    expectRefused(await defaults.post('/api/v1/workflows').send({ ...base, instance_id: address }), 'instance_id');
  });

  it('as replicas[3] → 400 naming replicas[3]', async () => {
    expectRefused(await defaults.post('/api/v1/workflows').send({ ...base, instance_id: 'localhost:8000', replicas: [...okReplicas, address] }), 'replicas[3]');
  });

  it('as metrics_source.url → 400 naming metrics_source.url', async () => {
    const url = /^[a-z]+:\/\//i.test(address) ? address : `http://${address}`;
    expectRefused(await defaults.post('/api/v1/workflows').send({ ...base, instance_id: 'localhost:8000', metrics_source: { type: 'prometheus', url } }), 'metrics_source.url');
  });
});

test('every refused field is named at once', async () => {
  const res = await defaults.post('/api/v1/workflows').send({ ...base, instance_id: '10.0.0.7:8000', replicas: ['127.0.0.1:1', '169.254.169.254:80'] });
  expectRefused(res, 'instance_id');
  expect(res.body.error.code).toBe('target_not_allowed');
  expect(fields(res)).toEqual(['instance_id', 'replicas[1]']);
  expect(res.body.error.details[1].message).toContain('link-local');
});

test('the loopback default accepts the embedded stack spellings', async () => {
  for (const instance_id of ['localhost:8000', '127.0.0.1:8000', 'http://localhost:8000', 'http://[::1]:8000/', 'http://127.0.0.1:8000/replicas/0']) {
    const res = await defaults.post('/api/v1/workflows').send({ ...base, instance_id, replicas: okReplicas, metrics_source: { type: 'prometheus', url: 'http://127.0.0.1:9090' } });
    expect([instance_id, res.status]).toEqual([instance_id, 201]);
  }
  expect(starts).toHaveLength(5);
});

test('an operator allowlist admits exactly what it lists', async () => {
  for (const instance_id of ['simulator:8000', 'a.vllm.internal:9000', '10.1.2.3:8000', '[fd00::7]:8000']) {
    expect([instance_id, (await wide.post('/api/v1/workflows').send({ ...base, instance_id })).status]).toEqual([instance_id, 201]);
  }
  starts.length = 0;
  for (const instance_id of ['simulator:8001', 'vllm.internal:80', 'localhost:8000', '[fd00::7]:8001', '169.254.169.254:80']) {
    expectRefused(await wide.post('/api/v1/workflows').send({ ...base, instance_id }), 'instance_id');
  }
});

test('an unreadable SERVETUNE_ALLOWED_TARGETS stops start-up, naming the entry', () => {
  expect(() => allowedTargetsFromEnv({ SERVETUNE_ALLOWED_TARGETS: 'simulator,10.0.0.0/99' })).toThrow(/"10\.0\.0\.0\/99"/);
  expect(allowedTargetsFromEnv({ SERVETUNE_ALLOWED_TARGETS: ' ' }).spec).toBe('localhost,127.0.0.0/8,::1');
});

/**
 * The gateway's smaller holes (docs/decisions-and-audit.md): binding failures exit non-zero, the
 * no-token mode trusts only the socket's real loopback address, bodies must be valid Unicode, an
 * oversized request line gets the error body, /metrics needs the `metrics` scope when tokens are on.
 * Nothing below the HTTP layer runs: the Temporal client is a recording fake (as in validation.test.ts).
 */
import { spawn } from 'node:child_process';
import { createServer as createTcpServer, connect, type AddressInfo, type Server as TcpServer } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import supertest from 'supertest';
import { createApp } from '../../api/app';
import { requireScope, TokenStore } from '../../api/auth';
import { loneSurrogatePath } from '../../api/bodyText';
import { HttpError } from '../../api/httpError';
import { listenGateway, requireLoopbackWithoutTokens } from '../../api/server';
import { ErrorBodySchema } from '../../models';
import { TSX } from '../../scripts/processes';
import { startDevServer } from '../helpers/temporal';
import { requestValidationClient } from '../helpers/requestValidationClient';

jest.setTimeout(120_000);

const { client: fakeClient, calls } = requestValidationClient();

const TOKENS = { ops: 'ops-token-0123456789', scraper: 'scrape-token-0123456789' };
const tokens = new TokenStore([
  { token: TOKENS.ops, subject: 'ops', scopes: ['read', 'start', 'approve'] },
  { token: TOKENS.scraper, subject: 'prometheus', scopes: ['metrics'] },
]);

beforeEach(() => {
  calls.length = 0;
});

describe('request bodies must be valid Unicode', () => {
  const api = supertest(createApp(fakeClient, { taskQueue: 'edges' }));
  // Sent byte for byte: superagent would otherwise JSON-encode the Buffer.
  const post = (raw: Buffer) => api.post('/api/v1/workflows').set('content-type', 'application/json').serialize((b: Buffer) => b as never).send(raw);

  it('answers 400 for invalid UTF-8 instead of rewriting it to U+FFFD', async () => {
    const raw = Buffer.concat([Buffer.from('{"instance_id":"a'), Buffer.from([0xc3, 0x28]), Buffer.from('","instance_type":"vllm"}')]);
    const res = await post(raw);
    expect(res.status).toBe(400);
    expect(ErrorBodySchema.parse(res.body).error).toEqual({
      code: 'invalid_json',
      message: 'Request body is not valid UTF-8',
      details: [{ field: '(body)', message: 'invalid UTF-8 byte sequence' }],
    });
    expect(calls).toEqual([]);
  });

  it('answers 400 naming the field for a lone surrogate, not 500', async () => {
    const res = await post(Buffer.from('{"instance_id":"abc\\ud800","instance_type":"vllm"}'));
    expect(res.status).toBe(400);
    expect(ErrorBodySchema.parse(res.body).error).toMatchObject({ code: 'invalid_json', details: [{ field: 'instance_id', message: 'lone surrogate (invalid Unicode)' }] });
    expect(res.body.error.message).toContain('instance_id');
    expect(calls).toEqual([]);
  });

  it('accepts a proper surrogate pair and well-formed text in every language', async () => {
    const res = await api.post('/api/v1/workflows/x/approve').send({ approved_by: 'Zoë 👩‍🚀', comment: '承認' });
    // Past the body checks: the fake client is reached (and refuses), so the status is not a 400.
    expect(res.status).not.toBe(400);
    expect(calls).toContain('getHandle');
  });

  it.each<[unknown, string | null]>([
    ['fine', null],
    ['\ud800', '(body)'],
    ['x\udc00', '(body)'],
    ['\ud83d\ude00', null],
    [{ a: [1, 'ok', { b: 'bad\udbff' }] }, 'a.2.b'],
    [{ ['k\ud800']: 1 }, 'k\ud800'],
    [[null, 2, true], null],
  ])('finds the lone surrogate in %j at %s', (value, path) => {
    expect(loneSurrogatePath(value)).toBe(path);
  });
});

describe('without tokens only the loopback address is trusted', () => {
  const run = (remoteAddress: string | undefined) => {
    let passed: unknown = 'not called';
    const res = { locals: {} as Record<string, unknown> };
    requireScope(new TokenStore([]), 'start')({ socket: { remoteAddress }, header: () => undefined } as never, res as never, (err?: unknown) => {
      passed = err;
    });
    return passed;
  };

  it.each(['127.0.0.1', '::1', '::ffff:127.0.0.1'])('lets a request from %s through', (address) => {
    expect(run(address)).toBeUndefined();
  });

  it.each(['10.0.0.7', '::ffff:192.168.1.4', '2001:db8::1', undefined])('refuses a request from %s with 403', (address) => {
    const err = run(address);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(403);
    expect((err as HttpError).message).toContain('loopback');
  });

  it('refuses to serve without tokens on an address that is not loopback', async () => {
    const server = await listenGateway(createApp(fakeClient, { taskQueue: 'edges' }), 0, '0.0.0.0');
    try {
      expect(() => requireLoopbackWithoutTokens(server, false)).toThrow(/refusing to listen on 0\.0\.0\.0 without API tokens/);
      expect(() => requireLoopbackWithoutTokens(server, true)).not.toThrow();
    } finally {
      server.close();
    }
  });
});

describe('binding and the HTTP parser', () => {
  let busy: TcpServer;
  let busyPort: number;

  beforeAll(async () => {
    busy = createTcpServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as AddressInfo).port;
  });

  afterAll(() => {
    busy.close();
  });

  it('rejects, naming the address and the cause, when the port is taken', async () => {
    await expect(listenGateway(createApp(fakeClient, { taskQueue: 'edges' }), busyPort, '127.0.0.1')).rejects.toThrow(
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busyPort}: EADDRINUSE`),
    );
  });

  it('answers a 20 KB path with 431 and the error body, not a bare status line', async () => {
    const server = await listenGateway(createApp(fakeClient, { taskQueue: 'edges' }), 0, '127.0.0.1');
    try {
      const port = (server.address() as AddressInfo).port;
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(`GET /api/v1/workflows/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      const [head, body] = raw.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 431 /);
      expect(head).toContain('Content-Type: application/json');
      expect(ErrorBodySchema.parse(JSON.parse(body)).error).toMatchObject({ code: 'request_too_large', details: [{ field: '(request line)' }] });
      expect(calls).toEqual([]);
    } finally {
      server.close();
    }
  });

  describe('the gateway process', () => {
    let env: TestWorkflowEnvironment;
    beforeAll(async () => {
      env = await startDevServer();
    });
    afterAll(async () => {
      await env?.teardown();
    });

    const runGateway = (extraEnv: Record<string, string>) =>
      new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(TSX, ['api/main.ts'], { env: { ...process.env, TEMPORAL_ADDRESS: env.address, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (c) => (output += c.toString()));
        child.stderr.on('data', (c) => (output += c.toString()));
        child.on('exit', (code) => resolve({ code, output }));
      });

    it('exits non-zero with a clear message when it cannot bind, and never says it is listening', async () => {
      const { code, output } = await runGateway({ HOST: '127.0.0.1', PORT: String(busyPort) });
      expect(code).toBe(1);
      expect(output).toContain(`cannot listen on 127.0.0.1:${busyPort}: EADDRINUSE`);
      expect(output).not.toContain('gateway listening');
    });

    it('exits non-zero for a HOST name that merely starts with "127."', async () => {
      const { code, output } = await runGateway({ HOST: '127.servetune-test.invalid', PORT: '0' });
      expect(code).toBe(1);
      expect(output).toContain('cannot listen on 127.servetune-test.invalid');
      expect(output).not.toContain('gateway listening');
    });
  });
});

describe('GET /metrics with tokens on', () => {
  const protectedApi = supertest(createApp(fakeClient, { taskQueue: 'edges', tokens }));

  it('needs a token with the metrics scope', async () => {
    const none = await protectedApi.get('/metrics');
    expect([none.status, none.body.error?.code]).toEqual([401, 'unauthenticated']);
    const wrongScope = await protectedApi.get('/metrics').set('authorization', `Bearer ${TOKENS.ops}`);
    expect([wrongScope.status, wrongScope.body.error?.code]).toEqual([403, 'forbidden']);
    expect(wrongScope.body.error.message).toContain('"metrics" scope');
    const scraper = await protectedApi.get('/metrics').set('authorization', `Bearer ${TOKENS.scraper}`);
    expect(scraper.status).toBe(200);
    expect(scraper.text).toContain('servetune_http_requests_total');
  });

  it('is open with metricsPublic (SERVETUNE_METRICS_PUBLIC=1), and the API still is not', async () => {
    const open = supertest(createApp(fakeClient, { taskQueue: 'edges', tokens, metricsPublic: true }));
    expect((await open.get('/metrics')).status).toBe(200);
    expect((await open.get('/api/v1/workflows')).status).toBe(401);
  });
});

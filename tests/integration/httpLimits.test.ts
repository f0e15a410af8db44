/**
 * Issue 12.3 against small servers on 127.0.0.1: a total deadline per request (a replica dribbling
 * bytes cannot hold a read or a push), the activity's cancellation stops a request at once, no
 * socket outlives its request, and a huge metrics page is refused with bounded memory.
 */
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { agentConfigTarget } from '../../activities/configTarget';
import { scrapeReplica } from '../../activities/fleetSampler';
import { createTargetHttpClient, DeadlineExceededError, ResponseTooLargeError } from '../../activities/httpClient';
import { DEFAULT_ALLOWED_TARGETS, parseAllowlist } from '../../core/targetAllowlist';
import { DEFAULT_HTTP_LIMITS, httpLimitsFromEnv } from '../../runtime/targetSettings';
import { eventually, startLoopbackServer, type LoopbackServer } from '../helpers/loopbackServer';

jest.setTimeout(60_000);

const allowlist = parseAllowlist(DEFAULT_ALLOWED_TARGETS).allowlist;
const READ_DEADLINE_MS = 1500;
const PUSH_DEADLINE_MS = 2000;
/** What a loaded 2-core machine may add to a deadline before the error arrives. */
const MARGIN_MS = 3000;
const http = createTargetHttpClient({ ...DEFAULT_HTTP_LIMITS, readDeadlineMs: READ_DEADLINE_MS, allowlist });
const target = agentConfigTarget(http, PUSH_DEADLINE_MS);
const push = { revision: 'r2', engine_args: {} };

/** Answers 200 with a promised body of 1000 bytes, then one byte every 200 ms. */
let loris: LoopbackServer;
const dribblers = new Set<NodeJS.Timeout>();
/** Accepts the request and never answers. */
let silent: LoopbackServer;

beforeAll(async () => {
  loris = await startLoopbackServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{');
    const timer = setInterval(() => res.write(' '), 200);
    dribblers.add(timer);
    res.on('close', () => {
      clearInterval(timer);
      dribblers.delete(timer);
    });
  });
  silent = await startLoopbackServer((req) => void req.resume());
});

afterAll(async () => {
  for (const t of dribblers) clearInterval(t);
  await loris.close();
  await silent.close();
});

async function timed(p: Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const started = Date.now();
  const err = await p.then(
    () => new Error('accepted'),
    (e: unknown) => e,
  );
  return { err, ms: Date.now() - started };
}

async function noConnectionsLeft(server: LoopbackServer): Promise<void> {
  expect(await eventually(async () => (await server.openConnections()) === 0, 5000)).toBe(true);
}

describe('a total deadline per request, not an idle timeout', () => {
  it.each<[string, () => Promise<unknown>, number]>([
    ['a config read from a slow-loris replica', () => target.read(loris.url), READ_DEADLINE_MS],
    ['a config push to a slow-loris replica', () => target.push(loris.url, push), PUSH_DEADLINE_MS],
    ['a metrics scrape of a slow-loris replica', () => scrapeReplica(http, 'vllm', loris.url), READ_DEADLINE_MS],
    ['a read from a replica that never answers', () => target.read(silent.url), READ_DEADLINE_MS],
  ])('%s fails within the deadline plus a margin and leaves no socket open', async (_what, call, deadline) => {
    const { err, ms } = await timed(call());
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect((err as Error).message).toBe(`no complete answer within the ${deadline} ms deadline`);
    expect(ms).toBeGreaterThanOrEqual(deadline - 50);
    expect(ms).toBeLessThan(deadline + MARGIN_MS);
    await noConnectionsLeft(loris);
    await noConnectionsLeft(silent);
  });
});

describe('cancellation reaches the request at once', () => {
  it('a caller signal stops a read long before its deadline', async () => {
    const slowHttp = createTargetHttpClient({ ...DEFAULT_HTTP_LIMITS, readDeadlineMs: 60_000, allowlist });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const { err, ms } = await timed(agentConfigTarget(slowHttp, 60_000).read(loris.url, controller.signal));
    expect((err as Error).name).toBe('CanceledError');
    expect(ms).toBeLessThan(200 + MARGIN_MS);
    await noConnectionsLeft(loris);
  });

  it("the activity's cancellation stops a push it was not handed explicitly (as pushAll calls it)", async () => {
    const slowHttp = createTargetHttpClient({ ...DEFAULT_HTTP_LIMITS, readDeadlineMs: 60_000, allowlist });
    const env = new MockActivityEnvironment();
    const before = loris.requests.length;
    const running = timed(env.run(() => agentConfigTarget(slowHttp, 10 * 60_000).push(loris.url, push)));
    // Cancel once the push is in flight.
    expect(await eventually(() => loris.requests.length > before)).toBe(true);
    env.cancel();
    const { err, ms } = await running;
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(ms).toBeLessThan(MARGIN_MS);
    await noConnectionsLeft(loris);
  });
});

test('no socket outlives its request (keep-alive is off)', async () => {
  const quick = await startLoopbackServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ revision: 'r1', engine: 'vllm', engine_args: {} }));
  });
  try {
    for (let i = 0; i < 5; i++) await target.read(quick.url);
    expect(quick.requests).toHaveLength(5);
    await noConnectionsLeft(quick);
  } finally {
    await quick.close();
  }
});

describe('a 50 MB metrics page is refused with bounded memory', () => {
  const PAGE_BYTES = 50 * 1024 * 1024;
  const line = Buffer.from('vllm:num_requests_running{replica="r"} 1\n');
  let sent = 0;
  let withLength = false;
  let page: LoopbackServer;

  beforeAll(async () => {
    // Streams a valid page without ever holding it: the test process's memory is the worker's.
    const chunk = Buffer.concat(Array.from({ length: Math.ceil(65536 / line.length) }, () => line));
    page = await startLoopbackServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', ...(withLength ? { 'content-length': String(PAGE_BYTES) } : {}) });
      res.write('# TYPE vllm:num_requests_running gauge\n');
      let closed = false;
      res.on('close', () => (closed = true));
      const pump = () => {
        while (!closed && sent < PAGE_BYTES) {
          const piece = chunk.subarray(0, Math.min(chunk.length, PAGE_BYTES - sent));
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        if (!closed) res.end();
      };
      pump();
    });
  });
  afterAll(() => page.close());

  it.each([
    ['streamed without a length', false],
    ['announced with a Content-Length', true],
  ])('%s', async (_what, announce) => {
    withLength = announce;
    sent = 0;
    const rssBefore = process.memoryUsage().rss;
    const { err } = await timed(scrapeReplica(http, 'vllm', page.url));
    const growthMiB = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect((err as Error).message).toBe(`answer larger than the ${8 * 1024 * 1024}-byte cap (SERVETUNE_MAX_RESPONSE_BYTES)`);
    // Reading the whole page took the worker to 810 MB; the cap keeps the growth near 8 MiB.
    expect(growthMiB).toBeLessThan(64);
    // The worker hung up: the server did not get to send the page.
    expect(sent).toBeLessThan(PAGE_BYTES);
    await noConnectionsLeft(page);
    console.info(`50 MB page ${announce ? 'with' : 'without'} Content-Length: RSS growth ${growthMiB.toFixed(1)} MiB, ${(sent / 1024 / 1024).toFixed(1)} MiB sent`);
  });
});

test('the limits come from the environment, and a smaller cap refuses a page the default admits', async () => {
  expect(httpLimitsFromEnv({})).toEqual({ readDeadlineMs: 15_000, pushDeadlineMs: 600_000, maxResponseBytes: 8 * 1024 * 1024 });
  const limits = httpLimitsFromEnv({ SERVETUNE_READ_DEADLINE_MS: '2500', SERVETUNE_PUSH_DEADLINE_MS: '90000', SERVETUNE_MAX_RESPONSE_BYTES: '4096' });
  expect(limits).toEqual({ readDeadlineMs: 2500, pushDeadlineMs: 90_000, maxResponseBytes: 4096 });
  expect(httpLimitsFromEnv({ SERVETUNE_MAX_RESPONSE_BYTES: 'lots', SERVETUNE_READ_DEADLINE_MS: '0' })).toEqual({ ...DEFAULT_HTTP_LIMITS, readDeadlineMs: 1 });

  const body = `# TYPE vllm:num_requests_running gauge\n${Array.from({ length: 300 }, (_, i) => `vllm:num_requests_running{engine="${i}"} 1\n`).join('')}`;
  const page = await startLoopbackServer((_req, res) => void res.end(body));
  try {
    const small = createTargetHttpClient({ ...limits, allowlist });
    await expect(scrapeReplica(small, 'vllm', page.url)).rejects.toThrow('answer larger than the 4096-byte cap (SERVETUNE_MAX_RESPONSE_BYTES)');
    await expect(scrapeReplica(http, 'vllm', page.url)).resolves.toMatchObject({ at_ms: expect.any(Number) });
  } finally {
    await page.close();
  }
});

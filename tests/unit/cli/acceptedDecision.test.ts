/**
 * A decision answered 202 (the rollout took it but had not finished acting on it when the gateway's
 * wait ran out) is not a failure: the CLI says so on stderr and exits 0.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EXIT } from '../../../cli/io';
import { run } from '../../../cli/main';

let server: http.Server;
let url: string;
const seen: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(202, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'decision_accepted', message: 'The approve was accepted by the rollout and is being acted on; GET the rollout for its state', details: [] } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

it('approve answered 202 exits 0 with the gateway\'s message', async () => {
  let out = '';
  let err = '';
  const code = await run(['node', 'servetune', 'approve', 'rollout-x', '--by', 'alice'], { out: (t) => void (out += t), err: (t) => void (err += t) }, {
    env: { SERVETUNE_URL: url },
    timeoutMs: 5_000,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
    terminal: () => ({ isTTY: false, columns: 80 }),
  });
  expect(seen).toEqual(['POST /api/v1/workflows/rollout-x/approve']);
  expect({ code, out, err }).toEqual({ code: EXIT.ok, out: '', err: 'servetune: The approve was accepted by the rollout and is being acted on; GET the rollout for its state (HTTP 202)\n' });
});

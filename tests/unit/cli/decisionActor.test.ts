/** Who the CLI sends as the decider: --by when it names someone, else the login name; never an empty name. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { run } from '../../../cli/main';

let server: http.Server;
let url: string;
const bodies: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      // 202: the CLI prints the message and exits 0, no state needed.
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'decision_accepted', message: 'accepted', details: [] } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function decide(args: string[], env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const before = bodies.length;
  await run(['node', 'servetune', ...args], { out: () => undefined, err: () => undefined }, {
    env: { SERVETUNE_URL: url, ...env },
    timeoutMs: 5_000,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
    terminal: () => ({ isTTY: false, columns: 80 }),
  });
  expect(bodies.length).toBe(before + 1);
  return bodies[bodies.length - 1];
}

it.each([
  [['approve', 'r-1', '--by', 'alice'], { USER: 'bob' }, { approved_by: 'alice' }],
  [['approve', 'r-1'], { USER: 'bob' }, { approved_by: 'bob' }],
  [['approve', 'r-1', '--by', '  '], { USER: 'bob' }, { approved_by: 'bob' }],
  [['abort', 'r-1', '--by', ''], { USER: '', LOGNAME: 'carol' }, { aborted_by: 'carol' }],
  [['promote', 'r-1', '--by', ' dave '], {}, { promoted_by: 'dave' }],
])('%j with %j sends %j', async (args, env, expected) => {
  expect(await decide(args, env)).toMatchObject(expected);
});

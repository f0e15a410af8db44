/**
 * A stand-in for vLLM's process layout, for the agent's drain tests: an API server (this process,
 * the group leader) and an "engine core" child in the same process group.
 *
 * - `POST /v1/completions` answers after `delay_ms` (body field, default 1000) with 200, or with 500
 *   when the engine core died meanwhile, as vLLM's API server does when its engine core is gone.
 * - SIGTERM to this process is vLLM's graceful shutdown: stop accepting, let in-flight requests
 *   finish, then stop the core and exit.
 * - SIGTERM to the core kills it at once (what signalling the whole group does to vLLM).
 *
 * Usage: node --import tsx tests/helpers/fakeEngine.ts --port N [--max-num-seqs N]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';

const argv = process.argv.slice(2);
const port = Number(argv[argv.indexOf('--port') + 1]);
if (argv.some((a) => a.startsWith('--refuse'))) {
  console.error('fake_engine.py: error: unrecognized arguments: --refuse');
  process.exit(2);
}

const core = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1e6);'], { stdio: 'ignore' });
let coreAlive = true;
core.once('exit', () => {
  coreAlive = false;
});

let inFlight = 0;
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') return void res.writeHead(coreAlive ? 200 : 500).end();
  if (req.method === 'GET' && req.url === '/metrics') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`fake:in_flight ${inFlight}\n`);
  if (req.method === 'POST' && req.url === '/v1/completions') {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const delay = Number((JSON.parse(raw || '{}') as { delay_ms?: number }).delay_ms ?? 1000);
      inFlight += 1;
      setTimeout(() => {
        inFlight -= 1;
        if (!coreAlive) return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"EngineDeadError"}');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'text_completion', pid: process.pid }));
      }, delay);
    });
    return;
  }
  res.writeHead(404).end();
});

process.once('SIGTERM', () => {
  // Graceful: finish what was admitted, then stop the core, then exit.
  server.close(() => {
    core.kill('SIGTERM');
    core.once('exit', () => process.exit(0));
    if (!coreAlive) process.exit(0);
  });
  server.closeIdleConnections();
});

server.listen(port, '127.0.0.1', () => console.log(`fake engine on ${port}, core pid ${core.pid}`));

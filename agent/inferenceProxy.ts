/**
 * The agent's pass-through for inference requests (`/v1/*`, the OpenAI-compatible API all three
 * engines serve). Clients that send through the agent get drained restarts: a request is admitted
 * only while the supervisor admits (else 503 `draining` with Retry-After, before anything reaches
 * the engine), and the supervisor waits for every admitted request before it stops the engine.
 * Bodies are streamed both ways, so streaming completions work.
 */
import http from 'node:http';
import type { Request, Response } from 'express';
import type { ErrorBody } from '../models';
import type { Supervisor } from './supervisor';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

function refuse(res: Response, status: number, code: string, message: string): void {
  const body: ErrorBody = { error: { code, message, details: [] } };
  res.status(status).json(body);
}

export function inferenceProxy(supervisor: Supervisor, engineUrl: string) {
  const target = new URL(engineUrl);
  return (req: Request, res: Response): void => {
    const release = supervisor.admit();
    if (!release) {
      res.setHeader('retry-after', '1');
      return refuse(res, 503, 'draining', `engine is not admitting requests (${supervisor.status().state})`);
    }
    res.once('close', release);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
    const upstream = http.request(
      { hostname: target.hostname.replace(/^\[|\]$/g, ''), port: target.port, method: req.method, path: req.originalUrl, headers },
      (answer) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
        res.writeHead(answer.statusCode ?? 502, out);
        answer.pipe(res);
        answer.once('error', () => res.destroy());
      },
    );
    upstream.once('error', (err) => {
      if (res.headersSent) return void res.destroy();
      refuse(res, 502, 'engine_unavailable', `engine did not answer ${req.originalUrl}: ${err.message}`);
    });
    // A client that gives up stops its upstream request too (the engine aborts the generation).
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };
}

/**
 * The worker's `GET /metrics`: its prom-client registry, followed by the Temporal SDK's own metrics
 * (the Rust core's Prometheus exporter, scraped on loopback and appended), so one scrape target has both.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServerOptions {
  registry: Registry;
  host: string;
  port: number;
  /** `http://host:port/metrics` of the SDK's Prometheus exporter, appended to every answer. */
  sdkMetricsUrl?: string;
  sdkTimeoutMs?: number;
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

async function sdkMetrics(url: string, timeoutMs: number): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return `# Temporal SDK metrics unavailable: HTTP ${res.status} from ${url}\n`;
    return await res.text();
  } catch (err) {
    return `# Temporal SDK metrics unavailable: ${(err as Error).message}\n`;
  }
}

/** The exposition text of the registry and, when configured, the SDK's metrics. */
export async function renderMetrics(registry: Registry, sdkMetricsUrl?: string, timeoutMs = 2_000): Promise<string> {
  const [own, sdk] = await Promise.all([registry.metrics(), sdkMetricsUrl ? sdkMetrics(sdkMetricsUrl, timeoutMs) : Promise.resolve('')]);
  if (!sdk) return own;
  return `${own.endsWith('\n') ? own : `${own}\n`}${sdk.endsWith('\n') ? sdk : `${sdk}\n`}`;
}

export function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; metrics are at GET /metrics\n');
      return;
    }
    renderMetrics(opts.registry, opts.sdkMetricsUrl, opts.sdkTimeoutMs).then(
      (body) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      resolve({
        url: `http://${host}:${port}/metrics`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

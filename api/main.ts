/** `npm run api`: the REST gateway. Stateless: every answer comes from Temporal. */
import { Client, Connection } from '@temporalio/client';
import { connectWithRetry } from '../runtime/connect';
import { logger } from '../runtime/logger';
import { intFromEnv, temporalSettings } from '../runtime/settings';
import { createApp } from './app';
import { DEFAULT_READS } from './rolloutReads';
import { loadTokens, TokenStore } from './auth';
import { createGatewayMetrics } from './telemetry';
import { listenGateway, requireLoopbackWithoutTokens } from './server';

async function main(): Promise<void> {
  const settings = temporalSettings();
  const host = process.env.HOST || '127.0.0.1';
  const port = intFromEnv(process.env.PORT, 8002);
  const tokens = new TokenStore(loadTokens());
  const metricsPublic = ['1', 'true', 'yes'].includes((process.env.SERVETUNE_METRICS_PUBLIC ?? '').toLowerCase());
  const connection = await connectWithRetry(() => Connection.connect({ address: settings.address }), `Temporal at ${settings.address}`);
  const client = new Client({ connection, namespace: settings.namespace });
  const app = createApp(client, {
    taskQueue: settings.taskQueue,
    tokens,
    metricsPublic,
    metrics: createGatewayMetrics({ client, processMetrics: true }),
    queryTimeoutMs: intFromEnv(process.env.SERVETUNE_QUERY_TIMEOUT_MS, DEFAULT_READS.queryTimeoutMs),
    readCacheSize: intFromEnv(process.env.SERVETUNE_READ_CACHE_SIZE, DEFAULT_READS.cacheSize),
  });
  // Rejects (and main exits 1) when the port cannot be bound.
  const server = await listenGateway(app, port, host);
  try {
    // Without tokens anyone who reaches the port could start or approve rollouts: only a loopback address will do.
    requireLoopbackWithoutTokens(server, tokens.enabled);
  } catch (err) {
    server.close();
    throw err;
  }
  logger.info(
    { url: `http://${host}:${port}`, auth: tokens.enabled ? 'bearer tokens' : 'none (loopback only)', metrics: !tokens.enabled ? 'loopback only' : metricsPublic ? 'open (SERVETUNE_METRICS_PUBLIC)' : 'metrics scope', ...settings },
    'gateway listening',
  );

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'gateway shutting down');
    // Stop taking connections, let in-flight requests finish, then drop the Temporal connection.
    server.close(() => void connection.close().finally(() => process.exit(0)));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err) => {
  logger.error({ err }, `gateway failed to start: ${(err as Error)?.message ?? err}`);
  process.exit(1);
});

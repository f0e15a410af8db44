/** `npm run api`: the REST gateway. Stateless: every answer comes from Temporal. */
import { Client, Connection } from '@temporalio/client';
import { connectWithRetry } from '../runtime/connect';
import { logger } from '../runtime/logger';
import { intFromEnv, temporalSettings } from '../runtime/settings';
import { createApp } from './app';
import { isLoopback, loadTokens, TokenStore } from './auth';
import { createGatewayMetrics } from './metrics';

async function main(): Promise<void> {
  const settings = temporalSettings();
  const host = process.env.HOST || '127.0.0.1';
  const port = intFromEnv(process.env.PORT, 8002);
  const tokens = new TokenStore(loadTokens());
  if (!tokens.enabled && !isLoopback(host)) {
    // Without tokens anyone who reaches the port could start or approve rollouts.
    throw new Error(`refusing to listen on ${host} without API tokens: set SERVETUNE_API_TOKENS or SERVETUNE_API_TOKENS_FILE, or HOST=127.0.0.1`);
  }
  const connection = await connectWithRetry(() => Connection.connect({ address: settings.address }), `Temporal at ${settings.address}`);
  const client = new Client({ connection, namespace: settings.namespace });
  const server = createApp(client, { taskQueue: settings.taskQueue, tokens, metrics: createGatewayMetrics({ client, processMetrics: true }) }).listen(port, host, () => {
    logger.info({ url: `http://${host}:${port}`, auth: tokens.enabled ? 'bearer tokens' : 'none (loopback only)', ...settings }, 'gateway listening');
  });

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
  logger.error({ err }, 'gateway failed to start');
  process.exit(1);
});

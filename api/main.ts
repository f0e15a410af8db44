/** `npm run api`: the REST gateway. Stateless: every answer comes from Temporal. */
import { Client, Connection } from '@temporalio/client';
import { connectWithRetry } from '../runtime/connect';
import { logger } from '../runtime/logger';
import { intFromEnv, temporalSettings } from '../runtime/settings';
import { createApp } from './app';

async function main(): Promise<void> {
  const settings = temporalSettings();
  const host = process.env.HOST || '127.0.0.1';
  const port = intFromEnv(process.env.PORT, 8002);
  const connection = await connectWithRetry(() => Connection.connect({ address: settings.address }), `Temporal at ${settings.address}`);
  const client = new Client({ connection, namespace: settings.namespace });
  const server = createApp(client, { taskQueue: settings.taskQueue }).listen(port, host, () => {
    logger.info({ url: `http://${host}:${port}`, ...settings }, 'gateway listening');
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

/**
 * The read benchmark's gateway process (benchmarks/reads.ts): the gateway's Express app three times over
 * one Temporal connection, plus the in-memory floor, on one server in one process.
 *
 *   /api/v1/…            the gateway on BENCH_READS_QUEUE, finished-read cache on (the default)
 *   /uncached/api/v1/…   the same gateway with the cache off (SERVETUNE_READ_CACHE_SIZE=0): every GET asks Temporal
 *   /list/api/v1/…       the gateway on BENCH_LIST_QUEUE, where the 200 listed rollouts are
 *   /floor/dict/:id      the floor: a Map lookup of the same bodies, answered by the same server (PUT fills it)
 *
 * Prints one JSON line with its URL once it listens.
 */
import { Client, Connection } from '@temporalio/client';
import express from 'express';
import { createApp } from '../api/app';
import { listenGateway } from '../api/server';

async function main(): Promise<void> {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  const readsQueue = process.env.BENCH_READS_QUEUE!;
  const dictionary = new Map<string, string>();
  const server = express();
  server.disable('x-powered-by');
  server.put('/floor/dict/:id', express.text({ type: '*/*', limit: '10mb' }), (req, res) => {
    dictionary.set(req.params.id, req.body as string);
    res.status(204).end();
  });
  server.get('/floor/dict/:id', (req, res) => {
    const body = dictionary.get(req.params.id);
    if (body === undefined) res.status(404).end();
    else res.type('json').send(body);
  });
  server.use('/uncached', createApp(client, { taskQueue: readsQueue, readCacheSize: 0 }));
  server.use('/list', createApp(client, { taskQueue: process.env.BENCH_LIST_QUEUE! }));
  server.use(createApp(client, { taskQueue: readsQueue }));
  const http = await listenGateway(server, 0, '127.0.0.1');
  const { port } = http.address() as { port: number };
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
  const stop = () => http.close(() => void connection.close().finally(() => process.exit(0)));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

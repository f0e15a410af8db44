/** `npm start`'s dev server script adds the search attributes that a history file from an older build lacks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { addMissingSearchAttributes } from '../../scripts/devServer';
import { freePort, waitForPort } from '../../scripts/processes';
import { ensureTemporalBinaries } from '../../scripts/temporalBinaries';
import { SEARCH_ATTRIBUTE_KEYS } from '../../contract';

jest.setTimeout(120_000);

let server: ChildProcess | undefined;
afterAll(() => {
  server?.kill('SIGKILL');
});

test('a dev server without the servetune search attributes gets every missing one, once', async () => {
  const { cli } = ensureTemporalBinaries(() => undefined);
  const [port, uiPort] = [await freePort(), await freePort()];
  // As an older build's history file would be: none of today's attributes registered.
  server = spawn(cli, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort), '--headless', '--log-level', 'error'], { stdio: 'ignore' });
  await waitForPort('127.0.0.1', port, 60_000, 'Temporal');
  const address = `127.0.0.1:${port}`;

  expect(addMissingSearchAttributes(cli, address, 'default')).toEqual(SEARCH_ATTRIBUTE_KEYS.map((k) => k.name));
  expect(addMissingSearchAttributes(cli, address, 'default')).toEqual([]);
});

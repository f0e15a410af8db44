/** npm start's supervisor: crashed children come back after a growing pause; a stop stops them all and restarts nothing. */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { restartDelayMs, Supervisor } from '../../../scripts/supervisor';

test('the pause before a restart doubles from 1 s and stops growing at 30 s', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 20].map(restartDelayMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
});

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('a child that keeps crashing is restarted with a longer pause each time; one that must not restart stops everything', async () => {
  const lines: string[] = [];
  const exits: number[] = [];
  const supervisor = new Supervisor((l) => lines.push(l), (code) => exits.push(code));
  // Exits at once with code 3, every time.
  supervisor.start({ name: 'crasher', restart: true, spawn: () => spawn(process.execPath, ['-e', 'process.exit(3)']) });
  await until('two restarts', () => lines.filter((l) => l.startsWith('crasher started')).length >= 3, 20_000);
  const restarts = lines.filter((l) => l.includes('restarting in'));
  expect(restarts[0]).toMatch(/^crasher exited \(code 3\) after \d+ s; restarting in 1 s \(restart 1 in a row\)$/);
  expect(restarts[1]).toMatch(/restarting in 2 s \(restart 2 in a row\)$/);

  // A long-lived child that is not restarted: its exit stops the supervisor (code 1).
  const server = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  supervisor.start({ name: 'server', restart: false, spawn: () => server });
  server.kill('SIGKILL');
  await until('the stop', () => exits.length > 0);
  expect(exits[0]).toBe(1);
  expect(lines).toContain('server exited (SIGKILL); stopping everything');
  const started = lines.filter((l) => l.startsWith('crasher started')).length;
  await sleep(restartDelayMs(3) + 500);
  expect(lines.filter((l) => l.startsWith('crasher started')).length).toBe(started);
});

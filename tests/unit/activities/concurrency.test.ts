import { mapWithConcurrency } from '../../../activities/concurrency';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('keeps results in input order with at most `limit` calls in flight', async () => {
  let inFlight = 0;
  let most = 0;
  const out = await mapWithConcurrency([5, 1, 4, 2, 3], 2, async (n) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await sleep(n * 3);
    inFlight--;
    return n * 10;
  });
  expect(out).toEqual([50, 10, 40, 20, 30]);
  expect(most).toBe(2);
});

test('no item starts after the first failure, and the calls in flight finish before it throws', async () => {
  const started: number[] = [];
  const finished: number[] = [];
  const items = Array.from({ length: 20 }, (_, i) => i);
  const run = mapWithConcurrency(items, 4, async (i) => {
    started.push(i);
    await sleep(i === 2 ? 5 : 40);
    if (i === 2) throw new Error('refused 2');
    finished.push(i);
    return i;
  });
  await expect(run).rejects.toThrow('refused 2');
  // Items 0..3 started together; 2 failed first; nothing started after it.
  expect(started.sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
  // The siblings in flight had finished when the call threw: nothing runs on in the background.
  expect(finished.sort((a, b) => a - b)).toEqual([0, 1, 3]);
});

test('an aborted signal stops new items and throws its reason once the in-flight ones end', async () => {
  const controller = new AbortController();
  const started: number[] = [];
  let finished = 0;
  const run = mapWithConcurrency(Array.from({ length: 10 }, (_, i) => i), 2, async (i) => {
    started.push(i);
    if (i === 1) controller.abort(new Error('activity cancelled'));
    await sleep(20);
    finished++;
    return i;
  }, controller.signal);
  await expect(run).rejects.toThrow('activity cancelled');
  expect(started).toEqual([0, 1]);
  expect(finished).toBe(2);
});

test('an empty list gives an empty result', async () => {
  expect(await mapWithConcurrency([], 3, async () => 1)).toEqual([]);
});

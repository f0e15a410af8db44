import { FinishedReadCache } from '../../../api/finishedReadCache';

describe('finished-read cache', () => {
  it('keeps at most its capacity, dropping the least recently read first', () => {
    const cache = new FinishedReadCache(2);
    cache.put('a', { n: 1 });
    cache.put('b', { n: 2 });
    expect(cache.get('a')?.body).toBe('{"n":1}');
    cache.put('c', { n: 3 });
    expect([cache.size, cache.get('b'), cache.get('a')?.body, cache.get('c')?.body]).toEqual([2, undefined, '{"n":1}', '{"n":3}']);
  });

  it('tags each answer by its content, so one body always has one ETag', () => {
    const cache = new FinishedReadCache(2);
    const first = cache.put('a', { n: 1 });
    expect(first.etag).toMatch(/^"[\w-]{27}"$/);
    expect(new FinishedReadCache(1).put('x', { n: 1 }).etag).toBe(first.etag);
    expect(cache.put('b', { n: 2 }).etag).not.toBe(first.etag);
  });

  it('with capacity 0 keeps nothing but still serializes and tags', () => {
    const cache = new FinishedReadCache(0);
    expect(cache.put('a', { n: 1 }).body).toBe('{"n":1}');
    expect([cache.size, cache.get('a')]).toEqual([0, undefined]);
  });
});

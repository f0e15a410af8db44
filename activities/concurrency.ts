/**
 * Runs `fn` over `items` with at most `limit` calls in flight, keeping the results in input order.
 *
 * The first failure stops the run: no item starts after it, the calls already in flight are awaited
 * (so nothing keeps running in the background once this returns), and then the first error is thrown.
 * A config push that a replica refused must not be followed by more pushes of the same config while the
 * workflow is already rolling back. `signal` stops it the same way from outside (an activity that was
 * cancelled): no new item starts, in-flight calls are awaited, and the signal's reason is thrown.
 */
export async function mapWithConcurrency<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (failure === null && !signal?.aborted && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index], index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure !== null) throw (failure as { error: unknown }).error;
  if (signal?.aborted) throw signal.reason ?? new Error('cancelled');
  return results;
}

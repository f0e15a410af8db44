import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';

/**
 * Runs `work` (activities) in a scope that is cancelled as soon as `requested()` holds, so a stop request
 * (an abort) does not wait out a long activity such as an engine restart. Answers 'done' when the work
 * finished, 'stopped' when the request cancelled it. A cancellation of the workflow itself is not a
 * stop request: it is rethrown, so the caller's cancellation path still runs.
 */
export async function cancelOnRequest(requested: () => boolean, work: () => Promise<unknown>): Promise<'done' | 'stopped'> {
  const scope = new CancellationScope();
  let settled = false;
  // The watcher cannot fail the workflow: it is not cancellable, and it ends when the work settles.
  void CancellationScope.nonCancellable(async () => {
    await condition(() => settled || requested());
    if (!settled) scope.cancel();
  });
  try {
    await scope.run(work);
    return 'done';
  } catch (err) {
    if (isCancellation(err) && requested() && !CancellationScope.current().consideredCancelled) return 'stopped';
    throw err;
  } finally {
    settled = true;
  }
}

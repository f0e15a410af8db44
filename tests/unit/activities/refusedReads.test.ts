/**
 * A read of a refused target (outside SERVETUNE_ALLOWED_TARGETS, or a metadata address) fails the
 * activity for good: the failure carries `nonRetryable`, so the rollout fails at once instead of
 * asking the same refused target five times over about 15 s. Other read failures stay retryable.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../../activities';
import { agentConfigTarget } from '../../../activities/configTarget';
import { createTargetHttpClient } from '../../../activities/httpClient';
import { fleetDigest } from '../../../activities/resolveFleet';
import { NON_RETRYABLE } from '../../../contract';
import { parseAllowlist } from '../../../core/targetAllowlist';
import { DEFAULT_HTTP_LIMITS } from '../../../runtime/targetSettings';

const http = createTargetHttpClient({ ...DEFAULT_HTTP_LIMITS, readDeadlineMs: 2000, allowlist: parseAllowlist('127.0.0.0/8').allowlist });
const activities = createActivities({ http, configTarget: agentConfigTarget(http, 2000), concurrency: 2 });

async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  return new MockActivityEnvironment().run(run).then(
    () => new Error('the read succeeded'),
    (err: unknown) => err,
  );
}

const refused = ['169.254.169.254:80', '10.0.0.7:8000'];
const fleet = { instance_id: 'http://127.0.0.1:9', replicas: refused, count: refused.length, digest: fleetDigest(refused) };

describe.each([
  ['discovery', () => activities.discoverReplicas({ instance_id: 'http://10.0.0.7:8000' })],
  ['config reads', () => activities.readReplicaConfigs({ fleet })],
  ['metrics scrapes', () => activities.sampleFleet({ engine: 'vllm', fleet, range: { from: 0, to: 2 } })],
])('%s of a refused target', (_what, read) => {
  it('fail without retry, saying why', async () => {
    const err = await failureOf(read);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ nonRetryable: true, type: NON_RETRYABLE.targetRefused });
    expect((err as Error).message).toMatch(/refused/);
  });
});

it('a read of an allowed target that does not answer stays retryable', async () => {
  // Port 9 (discard) on loopback: allowed, and nothing listens there.
  const err = await failureOf(() => activities.discoverReplicas({ instance_id: 'http://127.0.0.1:9' }));
  expect(err).not.toBeInstanceOf(ApplicationFailure);
  expect((err as Error).message).toMatch(/discovering replicas of http:\/\/127\.0\.0\.1:9/);
});

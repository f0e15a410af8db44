import { toConfigRuns } from '../../../core/fleetRef';
import { configGroups, mixedConfigProblem } from '../../../core/uniformConfig';
import type { ReplicaConfig } from '../../../models';

const cfg = (revision: string, max_num_seqs = 256): ReplicaConfig => ({ revision, engine: 'vllm', engine_args: { max_num_seqs } });
const runs = (...configs: ReplicaConfig[]) => toConfigRuns(configs);

describe('configGroups', () => {
  it.each([
    ['one config, one group', runs(cfg('a'), cfg('a'), cfg('a')), [{ revision: 'a', replicas: 3 }]],
    ['two configs, largest first', runs(cfg('a'), cfg('b'), cfg('b')), [{ revision: 'b', replicas: 2 }, { revision: 'a', replicas: 1 }]],
    ['runs of one config that are not adjacent count once', runs(cfg('a'), cfg('b'), cfg('a')), [{ revision: 'a', replicas: 2 }, { revision: 'b', replicas: 1 }]],
    ['same revision, other args: two groups', runs(cfg('a'), cfg('a', 128)), [{ revision: 'a', replicas: 1 }, { revision: 'a', replicas: 1 }]],
    ['no replicas, no groups', [], []],
  ])('%s', (_what, input, expected) => {
    expect(configGroups(input)).toEqual(expected);
  });
});

describe('mixedConfigProblem', () => {
  it.each([
    ['a fleet on one config is fine', runs(cfg('a'), cfg('a')), null],
    ['an empty fleet is fine', [], null],
    [
      'a terminated rollout left one replica changed',
      runs(cfg('servetune-x'), cfg('initial'), cfg('initial'), cfg('initial')),
      /^the 4 replicas run 2 different configs \(initial on 3, servetune-x on 1\); a rollout plans from one config, so nothing was pushed/,
    ],
    ['hand-edited args under one revision name', runs(cfg('a'), cfg('a', 128), cfg('a')), /run 2 different configs \(a on 2, a \(other args\) on 1\)/],
    ['three configs', runs(cfg('a'), cfg('b'), cfg('c')), /run 3 different configs \(a on 1, b on 1, c on 1\)/],
  ])('%s', (_what, input, expected) => {
    const problem = mixedConfigProblem(input);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });
});

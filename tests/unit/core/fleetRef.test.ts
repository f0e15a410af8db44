import { configAt, rangeSize, restoreGroups, toConfigRuns } from '../../../core/fleetRef';
import type { ReplicaConfig } from '../../../models';

const cfg = (revision: string, max_num_seqs = 256): ReplicaConfig => ({ revision, engine: 'vllm', engine_args: { max_num_seqs } });

describe('config runs', () => {
  it('a fleet on one config is one run, whatever its size', () => {
    const runs = toConfigRuns(Array.from({ length: 1000 }, () => cfg('r1')));
    expect(runs).toEqual([{ ...cfg('r1'), from: 0, to: 1000 }]);
    expect(configAt(runs, 999)).toEqual(cfg('r1'));
  });

  it('splits where the revision or the args change, and finds each replica its own config', () => {
    const configs = [cfg('r1'), cfg('r1'), cfg('r2'), cfg('r2', 128), cfg('r1')];
    const runs = toConfigRuns(configs);
    expect(runs.map((r) => [r.revision, r.from, r.to])).toEqual([
      ['r1', 0, 2],
      ['r2', 2, 3],
      ['r2', 3, 4],
      ['r1', 4, 5],
    ]);
    expect(configs.map((_, i) => configAt(runs, i))).toEqual(configs);
  });

  it('refuses an index outside every run', () => {
    expect(() => configAt(toConfigRuns([cfg('r1')]), 1)).toThrow('no config recorded for replica #1');
    expect(toConfigRuns([])).toEqual([]);
  });
});

describe('restore groups', () => {
  it('groups replicas by the config they had, keeping their order', () => {
    const groups = restoreGroups([
      { address: 'a', ...cfg('r1') },
      { address: 'b', ...cfg('r2') },
      { address: 'c', ...cfg('r1') },
    ]);
    expect(groups).toEqual([
      { revision: 'r1', engine_args: { max_num_seqs: 256 }, addresses: ['a', 'c'] },
      { revision: 'r2', engine_args: { max_num_seqs: 256 }, addresses: ['b'] },
    ]);
  });
});

it('a range holds to - from replicas, never fewer than none', () => {
  expect(rangeSize({ from: 2, to: 5 })).toBe(3);
  expect(rangeSize({ from: 5, to: 5 })).toBe(0);
  expect(rangeSize({ from: 5, to: 2 })).toBe(0);
});

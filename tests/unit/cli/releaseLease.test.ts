/** `servetune release-lease` against the simulator's agent routes. */
import axios from 'axios';
import { run } from '../../../cli/main';
import { createFleetSimulator, type FleetSimulator } from '../../../simulator/simulatedFleet';

let fleet: FleetSimulator;
let replicas: string[];

beforeEach(async () => {
  fleet = await createFleetSimulator({ deployments: [{ engine: 'vllm', port: 0, replicas: 3 }] });
  replicas = fleet.deployments[0].replicaAddresses;
});
afterEach(async () => {
  await fleet.close();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
}

const hold = (replica: string, holder: string) =>
  axios.put(`${replica}/servetune/v1/config`, { revision: `${holder}-rev`, engine_args: { max_num_seqs: 128 }, holder, lease_seconds: 3600 });
const leaseOf = async (replica: string) => (await axios.get(`${replica}/servetune/v1/lease`)).data;

describe('servetune release-lease', () => {
  it('frees the replicas a gone rollout held (whoever holds them), and says so per replica', async () => {
    await hold(replicas[0], 'terminated-rollout');
    await hold(replicas[1], 'terminated-rollout');
    const c = capture();
    expect(await run(['node', 'servetune', 'release-lease', '--replica', replicas[0], '--replica', replicas[1], '--replica', replicas[2]], c.io)).toBe(0);
    expect(c.out.join('')).toBe(
      [
        `${replicas[0]}: released the lease of rollout terminated-rollout`,
        `${replicas[1]}: released the lease of rollout terminated-rollout`,
        `${replicas[2]}: no lease held; nothing to release`,
        '',
      ].join('\n'),
    );
    expect(await leaseOf(replicas[0])).toEqual({ holder: null, expires_at: null });
    // Free again: another rollout may now change it.
    expect((await hold(replicas[0], 'next-rollout')).status).toBe(200);
  });

  it('--holder releases only that rollout\'s lease: another holder is left alone, exit 1 naming it', async () => {
    await hold(replicas[0], 'rollout-a');
    const c = capture();
    expect(await run(['node', 'servetune', 'release-lease', '--replica', replicas[0], '--holder', 'rollout-b'], c.io)).toBe(1);
    expect(c.err.join('')).toMatch(new RegExp(`^servetune: ${replicas[0]}: held by rollout rollout-a until \\S+, not by rollout-b; left alone\\n$`));
    expect((await leaseOf(replicas[0])).holder).toBe('rollout-a');

    const json = capture();
    expect(await run(['node', 'servetune', 'release-lease', '--replica', replicas[0], '--holder', 'rollout-a', '--json'], json.io)).toBe(0);
    expect(JSON.parse(json.out.join(''))).toEqual([{ replica: replicas[0], released: true, released_holder: 'rollout-a', lease: { holder: null, expires_at: null } }]);
  });

  it('needs --replica; a URL that is no replica is a one-line error', async () => {
    const c = capture();
    expect(await run(['node', 'servetune', 'release-lease'], c.io)).toBe(2);
    const bad = capture();
    expect(await run(['node', 'servetune', 'release-lease', '--replica', `${fleet.deployments[0].url}/replicas/99`], bad.io)).toBe(1);
    expect(bad.err.join('')).toMatch(/no lease route/);
  });
});

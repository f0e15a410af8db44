/**
 * `npm run sim`: the simulated vLLM deployment on SIM_VLLM_PORT (default 8000), bound on SIM_HOST
 * (default 127.0.0.1), with SIM_REPLICAS replicas (default 10); SIM_ADVERTISE_HOST names the host in
 * replica URLs when clients reach it by another name. Stops on SIGINT/SIGTERM.
 */
import { createFleetSimulator, DEFAULT_REPLICAS } from './fleet';

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const host = process.env.SIM_HOST?.trim() || '127.0.0.1';
  const port = intFromEnv('SIM_VLLM_PORT', 8000, 0);
  const replicas = intFromEnv('SIM_REPLICAS', DEFAULT_REPLICAS, 1);
  const advertiseHost = process.env.SIM_ADVERTISE_HOST?.trim() || undefined;
  const fleet = await createFleetSimulator({ host, advertiseHost, deployments: [{ engine: 'vllm', port, replicas }] });
  for (const d of fleet.deployments) {
    console.log(`simulated ${d.engine} deployment: ${d.url} (${d.replicaAddresses.length} replicas)`);
    console.log(`  discovery: ${d.url}/servetune/v1/replicas   state: ${d.url}/sim/v1/state`);
    console.log(`  replica 0: ${d.replicaAddresses[0]}/metrics`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the simulator`);
    fleet.close().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  console.error(`simulator failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

/**
 * `npm run sim`: the three simulated deployments — vLLM on SIM_VLLM_PORT (default 8000), TGI on
 * SIM_TGI_PORT (3000), SGLang on SIM_SGLANG_PORT (30000) — bound on SIM_HOST (default 127.0.0.1), each
 * with SIM_REPLICAS replicas (default 10); SIM_ADVERTISE_HOST names the host in replica URLs when clients
 * reach it by another name. SIM_ENGINES (comma-separated, default "vllm,tgi,sglang") picks which to
 * start. Stops on SIGINT/SIGTERM.
 */
import { EngineTypeSchema, type EngineType } from '../models';
import { createFleetSimulator, DEFAULT_PORTS, DEFAULT_REPLICAS, type FleetDeploymentSpec } from './simulatedFleet';

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}

const PORT_VARIABLES: Readonly<Record<EngineType, string>> = { vllm: 'SIM_VLLM_PORT', tgi: 'SIM_TGI_PORT', sglang: 'SIM_SGLANG_PORT' };

function enginesFromEnv(): EngineType[] {
  const raw = process.env.SIM_ENGINES?.trim();
  if (!raw) return ['vllm', 'tgi', 'sglang'];
  const engines = raw.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const e of engines) {
    if (!EngineTypeSchema.safeParse(e).success) throw new Error(`SIM_ENGINES: unknown engine "${e}" (vllm, tgi, sglang)`);
  }
  return [...new Set(engines)] as EngineType[];
}

async function main(): Promise<void> {
  const host = process.env.SIM_HOST?.trim() || '127.0.0.1';
  const replicas = intFromEnv('SIM_REPLICAS', DEFAULT_REPLICAS, 1);
  const advertiseHost = process.env.SIM_ADVERTISE_HOST?.trim() || undefined;
  const deployments: FleetDeploymentSpec[] = enginesFromEnv().map((engine) => ({
    engine,
    port: intFromEnv(PORT_VARIABLES[engine], DEFAULT_PORTS[engine], 0),
    replicas,
  }));
  const applyDelayMs = intFromEnv('SIM_APPLY_DELAY_MS', 0, 0);
  const fleet = await createFleetSimulator({ host, advertiseHost, deployments, applyDelayMs });
  for (const d of fleet.deployments) {
    const intro = d.simulator.engine.introspection;
    console.log(`simulated ${d.engine} deployment: ${d.url} (${d.replicaAddresses.length} replicas)`);
    console.log(`  discovery: ${d.url}/servetune/v1/replicas   state: ${d.url}/sim/v1/state`);
    console.log(`  replica 0: ${d.replicaAddresses[0]}/metrics${intro ? `   ${d.replicaAddresses[0]}${intro.path}` : ''}`);
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

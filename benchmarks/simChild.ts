/**
 * The fleet simulator (createFleetSimulator) in its own process, so a benchmark that scrapes 1,000
 * replicas measures the scraper and not the simulator rendering pages on the same event loop.
 * BENCH_SIM_SPEC is the JSON list of deployments; the child prints one JSON line with their URLs.
 */
import { createFleetSimulator, type FleetDeploymentSpec } from '../simulator/simulatedFleet';

async function main(): Promise<void> {
  const spec = JSON.parse(process.env.BENCH_SIM_SPEC ?? '[]') as FleetDeploymentSpec[];
  const fleet = await createFleetSimulator({ deployments: spec });
  console.log(JSON.stringify({ deployments: fleet.deployments.map((d) => ({ url: d.url, replicaAddresses: d.replicaAddresses })) }));
  const stop = () => void fleet.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

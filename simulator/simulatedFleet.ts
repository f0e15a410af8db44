import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { EngineType } from '../models';
import { createDeploymentApp } from './app';
import { SimDeployment } from './deployment';
import { engineModel } from './engines';

export interface FleetDeploymentSpec {
  engine: EngineType;
  /** 0 picks a free port. */
  port: number;
  /** Default 10. */
  replicas?: number;
}

export interface FleetSimulatorOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Host name put in replica URLs when clients reach the simulator by another name (e.g. a compose service). */
  advertiseHost?: string;
  deployments: FleetDeploymentSpec[];
  /** How long a config push that changes a replica's revision takes to answer (an engine restart); default 0. */
  applyDelayMs?: number;
  /** Monotonic clock in milliseconds; default performance.now(). Inject for deterministic tests. */
  now?: () => number;
}

export interface RunningDeployment {
  engine: EngineType;
  /** Deployment root, e.g. http://127.0.0.1:8000 (the actual port when 0 was asked). */
  url: string;
  replicaAddresses: string[];
  /** The live model behind the HTTP surface (for tests and tooling). */
  simulator: SimDeployment;
}

export interface FleetSimulator {
  deployments: RunningDeployment[];
  close(): Promise<void>;
}

export const DEFAULT_REPLICAS = 10;

/** Default port of each engine's simulated deployment (docs/DESIGN: SIM_VLLM_PORT, SIM_TGI_PORT, SIM_SGLANG_PORT). */
export const DEFAULT_PORTS: Readonly<Record<EngineType, number>> = Object.freeze({ vllm: 8000, tgi: 3000, sglang: 30000 });

/** Address clients should use for a bound host: wildcard binds are reached on loopback. */
function clientHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Start one HTTP server per deployment; each serves its replicas under /replicas/<i>. */
export async function createFleetSimulator(opts: FleetSimulatorOptions): Promise<FleetSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const now = opts.now ?? (() => performance.now());
  const servers: http.Server[] = [];
  const deployments: RunningDeployment[] = [];
  try {
    for (const spec of opts.deployments) {
      const engine = engineModel(spec.engine);
      const server = http.createServer();
      servers.push(server);
      const port = await listen(server, spec.port, host);
      const url = `http://${opts.advertiseHost ?? clientHost(host)}:${port}`;
      const simulator = new SimDeployment({ engine, baseUrl: url, replicas: spec.replicas ?? DEFAULT_REPLICAS, now });
      const fleet = () => deployments.map((d) => d.simulator);
      server.on('request', createDeploymentApp(simulator, { applyDelayMs: opts.applyDelayMs ?? 0, fleet }));
      deployments.push({ engine: spec.engine, url, replicaAddresses: simulator.addresses(), simulator });
    }
  } catch (err) {
    await Promise.all(servers.map((s) => (s.listening ? closeServer(s) : Promise.resolve())));
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    deployments,
    close: () => (closed ??= Promise.all(servers.map(closeServer)).then(() => undefined)),
  };
}

/** The cluster's ports and its server config, rendered from server.template.yaml. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../temporalBinaries';

/** Membership ports are stored in a PostgreSQL SMALLINT: a port at or above this breaks ring membership. */
export const PORT_LIMIT = 32768;

/** Far from the defaults others run on (7233, 8233, 3000, 8080); SERVETUNE_CLUSTER_PORT_BASE moves it. */
export const DEFAULT_PORT_BASE = 17233;

export interface ClusterPorts {
  frontend: number;
  history: number;
  matching: number;
  worker: number;
  frontendHttp: number;
  postgres: number;
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
}

/** Every port the cluster uses, at fixed offsets from `base`. */
export function clusterPorts(base: number): ClusterPorts {
  const ports: ClusterPorts = {
    frontend: base,
    history: base + 1,
    matching: base + 2,
    worker: base + 3,
    frontendHttp: base + 4,
    postgres: base + 5,
    frontendMembership: base + 10,
    historyMembership: base + 11,
    matchingMembership: base + 12,
    workerMembership: base + 13,
  };
  const highest = Math.max(...Object.values(ports));
  if (!Number.isInteger(base) || base < 1024 || highest >= PORT_LIMIT) {
    throw new Error(`cluster port base must be an integer from 1024 to ${PORT_LIMIT - 14} (its ports span base..base+13, and membership ports must stay below ${PORT_LIMIT}); got ${base}`);
  }
  return ports;
}

// From the repository root, so the compiled script (dist/scripts/) finds them too: the build copies no YAML.
export const SERVER_TEMPLATE = path.join(PROJECT_ROOT, 'scripts', 'cluster', 'server.template.yaml');
export const DYNAMIC_CONFIG = path.join(PROJECT_ROOT, 'scripts', 'cluster', 'dynamicconfig.yaml');

/** The template with each ${NAME} replaced; a placeholder without a value is an error, not an empty string. */
export function renderServerConfig(ports: ClusterPorts, opts: { pgUser: string; logLevel: string; dynamicConfigFile?: string }): string {
  const values: Record<string, string> = {
    LOG_LEVEL: opts.logLevel,
    PG_PORT: String(ports.postgres),
    PG_USER: opts.pgUser,
    FRONTEND_PORT: String(ports.frontend),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    HISTORY_PORT: String(ports.history),
    MATCHING_PORT: String(ports.matching),
    WORKER_PORT: String(ports.worker),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    DYNAMIC_CONFIG_FILE: opts.dynamicConfigFile ?? DYNAMIC_CONFIG,
  };
  return readFileSync(SERVER_TEMPLATE, 'utf8').replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`server.template.yaml: no value for \${${name}}`);
    return values[name];
  });
}

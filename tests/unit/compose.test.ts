/**
 * docker-compose.yml without a Docker engine: the Compose Specification schema and the references
 * around it (scripts/validate-compose.ts), the samples-server layout of Temporal, and the
 * observability files the compose file mounts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { composeSchemaPath, interpolate, validateCompose } from '../../scripts/validate-compose';
import { parseTarget } from '../../core/targetAddress';
import { checkTarget } from '../../core/targetAllowlist';
import { allowedTargetsFromEnv } from '../../runtime/targetSettings';
import { NODE_FLAGS, PROCESS_ENV } from '../../scripts/processes';
import { TEMPORAL_SERVER_VERSION } from '../../scripts/cluster/serverBinaries';

const root = path.join(__dirname, '..', '..');
const composeFile = path.join(root, 'docker-compose.yml');

test('docker-compose.yml is valid against the Compose Specification schema, references included', () => {
  const report = validateCompose(composeFile, {});
  expect(report.errors).toEqual([]);
  expect(report.missingRequired).toEqual(['SERVETUNE_API_TOKENS']);
  expect(report.services).toEqual(
    expect.arrayContaining(['postgresql', 'temporal-admin-tools', 'temporal', 'temporal-create-namespace', 'temporal-ui', 'simulator', 'worker', 'api', 'prometheus', 'grafana']),
  );
  expect(readFileSync(composeSchemaPath(), 'utf8')).toContain('service_completed_successfully');
});

test('Temporal runs as the samples-server compose does: schema job, server, namespace job, UI', () => {
  const doc = parse(readFileSync(composeFile, 'utf8'), { merge: true });
  const s = doc.services;
  expect(JSON.stringify(doc)).not.toContain('auto-setup');
  expect(s['temporal-admin-tools'].image).toMatch(/^temporalio\/admin-tools:/);
  expect(s['temporal-admin-tools'].command.join('\n')).toMatch(/temporal-sql-tool[\s\S]*setup-schema[\s\S]*update-schema/);
  expect(s.temporal.image).toMatch(/^temporalio\/server:/);
  expect(s.temporal.depends_on['temporal-admin-tools'].condition).toBe('service_completed_successfully');
  expect(s['temporal-create-namespace'].command.join('\n')).toMatch(/namespace create[\s\S]*search-attribute create/);
  for (const svc of ['worker', 'api']) expect(s[svc].depends_on['temporal-create-namespace'].condition).toBe('service_completed_successfully');
  expect(s['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
});

test("Prometheus' example scrape config points at the compose services' metrics ports", () => {
  const doc = parse(readFileSync(composeFile, 'utf8'), { merge: true });
  const prom = parse(readFileSync(path.join(root, 'observability', 'prometheus.yml'), 'utf8'));
  const targets = Object.fromEntries(prom.scrape_configs.map((c: { job_name: string; static_configs: Array<{ targets: string[] }> }) => [c.job_name, c.static_configs[0].targets[0]]));
  expect(targets['servetune-gateway']).toBe(`api:${doc.services.api.environment.PORT}`);
  expect(targets['servetune-worker']).toBe(`worker:${doc.services.worker.environment.WORKER_METRICS_PORT}`);
  expect(targets['temporal-server']).toBe(`temporal:${doc.services.temporal.environment.PROMETHEUS_ENDPOINT.split(':')[1]}`);
});

describe('the validator finds what docker compose config would refuse', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'compose-'));
  const check = (yaml: string, env: Record<string, string> = {}) => {
    const file = path.join(dir, 'docker-compose.yml');
    writeFileSync(file, yaml);
    return validateCompose(file, env);
  };

  test.each([
    ['an unknown service key', 'services:\n  a:\n    image: x\n    imagee: y\n', /additional properties \(imagee\)/],
    ['an unknown depends_on condition', 'services:\n  a:\n    image: x\n    depends_on:\n      b:\n        condition: service_done\n  b:\n    image: x\n', /service_started, service_healthy, service_completed_successfully/],
    ['a depends_on target that does not exist', 'services:\n  a:\n    image: x\n    depends_on: [nope]\n', /no service named nope/],
    ['service_healthy on a service without a healthcheck', 'services:\n  a:\n    image: x\n    depends_on:\n      b:\n        condition: service_healthy\n  b:\n    image: x\n', /needs a healthcheck on b/],
    ['an undeclared named volume', 'services:\n  a:\n    image: x\n    volumes: ["data:/data"]\n', /named volume data is not declared/],
    ['a missing bind-mount source', 'services:\n  a:\n    image: x\n    volumes: ["./nope.yml:/etc/x.yml"]\n', /bind-mount source \.\/nope\.yml does not exist/],
    ['a port on every interface', 'services:\n  a:\n    image: x\n    ports: ["8080:80"]\n', /listens on every interface/],
    ['a bad interpolation', 'services:\n  a:\n    image: "x$(date)"\n', /invalid interpolation format/],
    ['a service without an image or build', 'services:\n  a:\n    command: ["true"]\n', /needs an image or a build/],
    ['invalid YAML', 'services:\n  a:\n    image: x\n   bad: indent\n', /^YAML: /],
    ['a duplicate key', 'services:\n  a:\n    image: x\n    image: y\n', /^YAML: /],
  ])('%s', (_what, yaml, message) => {
    const { errors } = check(yaml);
    expect(errors.some((e) => message.test(e))).toBe(true);
  });

  test('a valid file passes, interpolated from the environment', () => {
    expect(check('name: t\nservices:\n  a:\n    image: "x:${TAG:-1}"\n    ports: ["127.0.0.1:${P:?set P}:80"]\n', { P: '8080' })).toEqual({ errors: [], missingRequired: [], services: ['a'] });
  });
});

test("interpolation follows compose's rules", () => {
  const missing = new Set<string>();
  const errors: string[] = [];
  const env = { A: 'a', EMPTY: '' };
  const run = (s: string) => interpolate(s, env, missing, 'x', errors);
  expect(run('$$HOME $A ${A} ${EMPTY:-d} ${EMPTY-d} ${B:-${A}} ${A:+alt} ${EMPTY+alt} ${B}')).toBe('$HOME a a d  a alt alt ');
  expect(run('${R:?say why}')).toBe('required-R');
  expect(run('${EMPTY?fine}')).toBe('');
  expect([...missing]).toEqual(['R']);
  expect(errors).toEqual([]);
});

test('servetune services run the compiled build under an init, restart, and have healthchecks', () => {
  const doc = parse(readFileSync(composeFile, 'utf8'), { merge: true });
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/RUN npm run build/);
  const entry = { simulator: ['simulator/main.ts', 'sim'], worker: ['worker/main.ts', 'worker'], api: ['api/main.ts', 'api'] } as const;
  for (const [name, [source, processName]] of Object.entries(entry)) {
    const svc = doc.services[name];
    // `npx tsx` as the main process would bypass the image's compiled build and keep signals from node.
    // Node flags and environment as `npm start` runs the process (scripts/processes.ts).
    expect(svc.command).toEqual(['node', ...NODE_FLAGS[processName], `dist/${source.replace(/\.ts$/, '.js')}`]);
    expect(svc.environment).toMatchObject(PROCESS_ENV[processName]);
    expect(svc.init).toBe(true);
    expect(svc.restart).toBe('unless-stopped');
    const test = svc.healthcheck.test.join(' ');
    expect(test).toMatch(/^CMD node -e fetch\('http:\/\/127\.0\.0\.1:\d+\/[a-z]+'\)/);
    // the probed port is the one the service listens on
    const port = test.match(/127\.0\.0\.1:(\d+)/)![1];
    expect(svc.ports.some((p: string) => p.endsWith(`:${port}`))).toBe(true);
  }
});

test('the worker is a versioned build of the servetune deployment that makes itself current by default', () => {
  const doc = parse(readFileSync(composeFile, 'utf8'), { merge: true });
  const env = doc.services.worker.environment;
  expect(env.SERVETUNE_DEPLOYMENT_NAME).toBe('servetune');
  expect(env.SERVETUNE_WORKER_VERSIONING ?? 'on').toBe('on');
  const run = (vars: Record<string, string>) => interpolate(env.SERVETUNE_SET_CURRENT_VERSION, vars, new Set(), 'worker', []);
  expect(run({})).toBe('on');
  expect(run({ SERVETUNE_SET_CURRENT_VERSION: 'off' })).toBe('off');
});

test('the gateway and the worker share one SERVETUNE_ALLOWED_TARGETS that admits the simulator and Prometheus only', () => {
  const doc = parse(readFileSync(composeFile, 'utf8'), { merge: true });
  const missing = new Set<string>();
  const errors: string[] = [];
  const specs = ['api', 'worker'].map((svc) => interpolate(doc.services[svc].environment.SERVETUNE_ALLOWED_TARGETS, {}, missing, svc, errors));
  expect(errors).toEqual([]);
  expect(specs[0]).toBe(specs[1]);
  const allowlist = allowedTargetsFromEnv({ SERVETUNE_ALLOWED_TARGETS: specs[0] });
  const allowed = (address: string) => {
    const parsed = parseTarget(address);
    return parsed.ok && checkTarget(parsed.target, allowlist).allowed;
  };
  const sim = doc.services.simulator.environment;
  for (const port of [sim.SIM_VLLM_PORT, sim.SIM_TGI_PORT, sim.SIM_SGLANG_PORT]) expect(allowed(`${sim.SIM_ADVERTISE_HOST}:${port}`)).toBe(true);
  expect(allowed('http://prometheus:9090')).toBe(true);
  for (const other of ['temporal:7233', 'postgresql:5432', 'api:8002', 'simulator:9999', '169.254.169.254:80']) expect(allowed(other)).toBe(false);
});

test('compose pins the Temporal server version `npm run cluster` builds and the production-shape suite tests', () => {
  const doc = parse(readFileSync(composeFile, 'utf8'), { merge: true });
  const s = doc.services;
  const pinned = (image: string) => /:-([^}]+)\}$/.exec(image)?.[1];
  expect(pinned(s.temporal.image)).toBe(TEMPORAL_SERVER_VERSION);
  expect(pinned(s['temporal-admin-tools'].image)).toBe(TEMPORAL_SERVER_VERSION);
  expect(pinned(s['temporal-create-namespace'].image)).toBe(TEMPORAL_SERVER_VERSION);
});

/**
 * `npx tsx scripts/validate-compose.ts [file]`: checks docker-compose.yml without a Docker engine.
 *
 * Neither the compose plugin (`docker compose config`) nor a Docker engine can be installed on these
 * machines, and Debian's docker-compose 1.29 rejects today's Compose Specification (top-level `name:`,
 * `configs.*.content`). So the file is checked the way `docker compose config` starts: YAML with merge
 * keys, `${VAR}` interpolation, then the Compose Specification's JSON schema (the copy the dclint
 * package ships), then the references the schema cannot see: depends_on targets, named volumes and
 * configs, build contexts and bind-mount sources, and published ports bound to an interface.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parseDocument } from 'yaml';

export interface ComposeReport {
  errors: string[];
  /** Variables the file requires (`${VAR:?…}`) that were not set; validation substitutes a placeholder. */
  missingRequired: string[];
  services: string[];
}

/** Where the Compose Specification schema comes from (a registry package, updated with it). */
export function composeSchemaPath(): string {
  return path.join(path.dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
}

const NAME = '[A-Za-z_][A-Za-z0-9_]*';
const BRACED = new RegExp(`^\\$\\{(${NAME})(?:(:?[-?+])((?:[^{}]|\\{[^{}]*\\})*))?\\}`);
const PLAIN = new RegExp(`^\\$(${NAME})`);

/** Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`. */
export function interpolate(value: string, env: Record<string, string | undefined>, missing: Set<string>, where: string, errors: string[]): string {
  let out = '';
  for (let i = 0; i < value.length; ) {
    if (value[i] !== '$') {
      out += value[i++];
      continue;
    }
    const rest = value.slice(i);
    if (rest.startsWith('$$')) {
      out += '$';
      i += 2;
      continue;
    }
    const braced = BRACED.exec(rest);
    if (braced) {
      const [whole, name, op, arg = ''] = braced;
      const v = env[name];
      const set = v !== undefined;
      const nonEmpty = set && v !== '';
      const sub = (s: string) => interpolate(s, env, missing, where, errors);
      if (!op) out += v ?? '';
      else if (op === ':-') out += nonEmpty ? v : sub(arg);
      else if (op === '-') out += set ? v : sub(arg);
      else if (op === ':+') out += nonEmpty ? sub(arg) : '';
      else if (op === '+') out += set ? sub(arg) : '';
      else if ((op === ':?' && !nonEmpty) || (op === '?' && !set)) {
        missing.add(name);
        out += `required-${name}`;
      } else out += v;
      i += whole.length;
      continue;
    }
    const plain = PLAIN.exec(rest);
    if (plain) {
      out += env[plain[1]] ?? '';
      i += plain[0].length;
      continue;
    }
    errors.push(`${where}: invalid interpolation format in ${JSON.stringify(value)} (write $$ for a literal $)`);
    return value;
  }
  return out;
}

function walk(node: unknown, at: string, fn: (s: string, where: string) => string): unknown {
  if (typeof node === 'string') return fn(node, at);
  if (Array.isArray(node)) return node.map((v, i) => walk(v, `${at}[${i}]`, fn));
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, at ? `${at}.${k}` : k, fn)]));
  return node;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** Checks what the schema cannot: that names used in one place are defined in another, and that files exist. */
function checkReferences(doc: Obj, dir: string, errors: string[]): void {
  const services = isObj(doc.services) ? doc.services : {};
  const volumes = isObj(doc.volumes) ? doc.volumes : {};
  const configs = isObj(doc.configs) ? doc.configs : {};
  for (const [name, svc] of Object.entries(services)) {
    if (!isObj(svc)) continue;
    const where = `services.${name}`;
    if (!svc.image && !svc.build && !svc.extends) errors.push(`${where}: needs an image or a build`);
    const deps = Array.isArray(svc.depends_on) ? svc.depends_on : isObj(svc.depends_on) ? Object.keys(svc.depends_on) : [];
    for (const dep of deps) {
      if (typeof dep === 'string' && !(dep in services)) errors.push(`${where}.depends_on: no service named ${dep}`);
      if (dep === name) errors.push(`${where}.depends_on: a service cannot depend on itself`);
    }
    if (isObj(svc.depends_on)) {
      for (const [dep, cond] of Object.entries(svc.depends_on)) {
        const target = services[dep];
        if (isObj(cond) && cond.condition === 'service_healthy' && isObj(target) && !target.healthcheck) {
          errors.push(`${where}.depends_on.${dep}: service_healthy needs a healthcheck on ${dep}`);
        }
      }
    }
    const build = typeof svc.build === 'string' ? { context: svc.build } : isObj(svc.build) ? svc.build : null;
    if (build) {
      const context = path.resolve(dir, String(build.context ?? '.'));
      const dockerfile = path.resolve(context, String(build.dockerfile ?? 'Dockerfile'));
      if (!existsSync(dockerfile)) errors.push(`${where}.build: ${path.relative(dir, dockerfile)} does not exist`);
    }
    for (const v of Array.isArray(svc.volumes) ? svc.volumes : []) {
      const source = typeof v === 'string' ? v.split(':')[0] : isObj(v) ? String(v.source ?? '') : '';
      const type = isObj(v) ? v.type : undefined;
      if (/^[./~]/.test(source)) {
        if (source.startsWith('.') && !existsSync(path.resolve(dir, source))) errors.push(`${where}.volumes: bind-mount source ${source} does not exist`);
      } else if (source && (type === undefined || type === 'volume') && !(typeof v === 'string' && !v.includes(':')) && !(source in volumes)) {
        errors.push(`${where}.volumes: named volume ${source} is not declared under volumes`);
      }
    }
    for (const c of Array.isArray(svc.configs) ? svc.configs : []) {
      const source = typeof c === 'string' ? c : isObj(c) ? String(c.source) : '';
      if (!(source in configs)) errors.push(`${where}.configs: no config named ${source}`);
    }
    for (const p of Array.isArray(svc.ports) ? svc.ports : []) {
      const published = typeof p === 'string' ? p : isObj(p) ? (p.host_ip ? null : String(p.published ?? '')) : String(p);
      // "ip:host:container" names the interface; "host:container" or "container" listen on all of them.
      if (published !== null && published.split(':').length < 3) errors.push(`${where}.ports: ${published} listens on every interface; bind it, e.g. 127.0.0.1:${published}`);
    }
  }
  for (const [name, cfg] of Object.entries(configs)) {
    if (isObj(cfg) && typeof cfg.file === 'string' && !existsSync(path.resolve(dir, cfg.file))) errors.push(`configs.${name}: file ${cfg.file} does not exist`);
  }
}

let compiled: ValidateFunction | null = null;
function schemaValidator(): ValidateFunction {
  if (compiled) return compiled;
  // Draft-07 (Ajv's default); the file names it by an https URI Ajv does not know, so the name is dropped.
  const { $schema: _draft, ...schema } = JSON.parse(readFileSync(composeSchemaPath(), 'utf8'));
  compiled = new Ajv({ allErrors: true, strict: false }).compile(schema);
  return compiled;
}

export function validateCompose(file: string, env: Record<string, string | undefined> = process.env): ComposeReport {
  const errors: string[] = [];
  const missing = new Set<string>();
  const text = readFileSync(file, 'utf8');
  const parsed = parseDocument(text, { merge: true, uniqueKeys: true });
  for (const e of parsed.errors) errors.push(`YAML: ${e.message}`);
  if (errors.length > 0) return { errors, missingRequired: [], services: [] };
  const raw = parsed.toJS({ maxAliasCount: 100 }) as unknown;
  if (!isObj(raw)) return { errors: ['the file is not a YAML mapping'], missingRequired: [], services: [] };

  const doc = walk(raw, '', (s, where) => interpolate(s, env, missing, where, errors)) as Obj;
  const validate = schemaValidator();
  if (!validate(doc)) {
    for (const e of validate.errors ?? []) {
      const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
      errors.push(`schema: ${e.instancePath || '/'} ${e.message}${extra}`);
    }
  }
  checkReferences(doc, path.dirname(path.resolve(file)), errors);
  return { errors: [...new Set(errors)], missingRequired: [...missing].sort(), services: isObj(doc.services) ? Object.keys(doc.services) : [] };
}

if (require.main === module) {
  const file = process.argv[2] ?? path.join(__dirname, '..', 'docker-compose.yml');
  const report = validateCompose(file);
  for (const e of report.errors) console.error(`${path.basename(file)}: ${e}`);
  if (report.errors.length > 0) process.exit(1);
  const needs = report.missingRequired.length > 0 ? `; needs ${report.missingRequired.join(', ')} set to run` : '';
  console.log(`${path.basename(file)}: valid against the Compose Specification schema, ${report.services.length} services${needs}`);
}

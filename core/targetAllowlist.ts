/**
 * Which hosts the worker may send requests to (`SERVETUNE_ALLOWED_TARGETS`), and which it never
 * may. Entries, comma-separated:
 * - a host name `simulator`, or every name under a domain `*.vllm.internal`;
 * - an address `10.0.0.7` / `::1`, or a network `10.0.0.0/8` / `fd00::/8`;
 * - any name or address with `:port` (`simulator:8000`, `[::1]:8000`) to allow that port only.
 * A name is allowed by a name entry. The addresses it resolves to are checked again where the
 * connection is made: never an always-refused one; and unless the name was listed exactly (the
 * operator vouches for that one name's DNS), inside one of the listed addresses or networks.
 */
import { cidrContains, formatIp, parseCidr, parseIp, unmapIpv4, type Cidr, type IpAddress } from './ipAddress';
import type { TargetAddress } from './targetAddress';

/** Loopback only: what the embedded stack (`npm start`, the simulator, the tests) uses. */
export const DEFAULT_ALLOWED_TARGETS = 'localhost,127.0.0.0/8,::1';

export type AllowEntry = { kind: 'name'; name: string; wildcard: boolean; port: number | null } | { kind: 'network'; network: Cidr; port: number | null };

export interface Allowlist {
  entries: AllowEntry[];
  /** The text it was parsed from, for messages. */
  spec: string;
}

/**
 * Never a target, whatever the allowlist says: cloud metadata services and link-local addresses
 * (credentials live there), unspecified, multicast and reserved addresses.
 */
const ALWAYS_REFUSED_NETWORKS: Array<[string, string]> = [
  ['0.0.0.0/8', 'an unspecified address'],
  ['169.254.0.0/16', 'a link-local address (cloud metadata services live at 169.254.169.254)'],
  ['100.100.100.200/32', 'a cloud metadata address'],
  ['224.0.0.0/4', 'a multicast address'],
  ['240.0.0.0/4', 'a reserved or broadcast address'],
  ['::/128', 'an unspecified address'],
  ['fe80::/10', 'a link-local address'],
  ['fd00:ec2::254/128', 'a cloud metadata address'],
  ['ff00::/8', 'a multicast address'],
];
const REFUSED = ALWAYS_REFUSED_NETWORKS.map(([cidr, why]) => ({ network: parseCidr(cidr) as Cidr, why }));
// A constant set, never changed after it is built.
// eslint-disable-next-line no-restricted-syntax
const METADATA_NAMES: ReadonlySet<string> = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal', 'metadata.azure.com']);

/** Why an address may never be a target, or null. */
export function alwaysRefusedAddress(ip: IpAddress): string | null {
  const unmapped = unmapIpv4(ip);
  return REFUSED.find((r) => cidrContains(r.network, unmapped))?.why ?? null;
}

/** Why a target may never be one (checked before the allowlist), or null. */
export function alwaysRefusedTarget(target: TargetAddress): string | null {
  if (target.ip) return alwaysRefusedAddress(target.ip);
  return METADATA_NAMES.has(target.host) ? 'a cloud metadata host name' : null;
}

function parseEntry(text: string): AllowEntry | null {
  if (text.includes('/')) {
    const network = parseCidr(text);
    return network ? { kind: 'network', network, port: null } : null;
  }
  const bracketed = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(text);
  const hostPort = /^([^:]+):([0-9]{1,5})$/.exec(text);
  const [host, portText] = bracketed ? [bracketed[1], bracketed[2]] : hostPort ? [hostPort[1], hostPort[2]] : [text, undefined];
  const port = portText === undefined ? null : Number(portText);
  if (port !== null && (port < 1 || port > 65535)) return null;
  const ip = parseIp(host);
  if (ip) return { kind: 'network', network: { address: ip, prefix: ip.family === 4 ? 32 : 128 }, port };
  if (bracketed) return null;
  const wildcard = host.startsWith('*.');
  const name = (wildcard ? host.slice(2) : host).toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/.test(name) || name.includes('..') || /(?:^|\.)[0-9]+$/.test(name)) return null;
  return { kind: 'name', name, wildcard, port };
}

/** Parses `SERVETUNE_ALLOWED_TARGETS`; any entry that does not parse is named so start-up can fail. */
export function parseAllowlist(spec: string): { allowlist: Allowlist; problems: string[] } {
  const entries: AllowEntry[] = [];
  const problems: string[] = [];
  for (const raw of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const entry = parseEntry(raw);
    if (entry) entries.push(entry);
    else problems.push(`${JSON.stringify(raw)} is not a host name, *.domain, address or network (CIDR), with an optional :port`);
  }
  return { allowlist: { entries, spec }, problems };
}

function nameMatches(entry: { name: string; wildcard: boolean }, host: string): boolean {
  return entry.wildcard ? host.endsWith(`.${entry.name}`) : host === entry.name;
}

export type TargetDecision = { allowed: true } | { allowed: false; reason: string };

/** May a request go to this target (before any DNS)? Always-refused targets first, then the allowlist. */
export function checkTarget(target: TargetAddress, allowlist: Allowlist): TargetDecision {
  const refused = alwaysRefusedTarget(target);
  if (refused) return { allowed: false, reason: `${target.host} is ${refused}, never a target` };
  const portOk = (e: AllowEntry) => e.port === null || e.port === target.port;
  const ip = target.ip;
  const match = allowlist.entries.find((e) => portOk(e) && (e.kind === 'network' ? ip !== null && cidrContains(e.network, ip) : ip === null && nameMatches(e, target.host)));
  if (!match) {
    const where = ip ? `${formatIp(ip)} port ${target.port}` : `${target.host} port ${target.port}`;
    return { allowed: false, reason: `${where} is not in the allowed targets (SERVETUNE_ALLOWED_TARGETS=${allowlist.spec})` };
  }
  return { allowed: true };
}

/**
 * May the worker connect to `address`, which `host` (allowed by `checkTarget`) resolved to? An
 * always-refused address never; otherwise a name listed exactly may resolve anywhere, a name
 * allowed through a wildcard only into the listed addresses and networks.
 */
export function checkResolvedAddress(host: string, address: string, allowlist: Allowlist): string | null {
  const ip = parseIp(address);
  if (!ip) return `resolved to ${address}, which is not an IP address`;
  const refused = alwaysRefusedAddress(ip);
  if (refused) return `resolved to ${formatIp(unmapIpv4(ip))}, ${refused}, never a target`;
  const name = host.toLowerCase().replace(/\.$/, '');
  if (allowlist.entries.some((e) => e.kind === 'name' && !e.wildcard && e.name === name)) return null;
  const inNetwork = allowlist.entries.some((e) => e.kind === 'network' && cidrContains(e.network, ip));
  return inNetwork ? null : `resolved to ${formatIp(unmapIpv4(ip))}, outside the allowed addresses and networks (SERVETUNE_ALLOWED_TARGETS=${allowlist.spec})`;
}

/**
 * Deployment and replica addresses as servetune accepts them: `host:port`, or an `http(s)` URL with a
 * host and an optional path (the simulator serves replicas under `/replicas/<i>`). One parse, used by
 * the gateway's schema, the worker's checks before every request, and the deployment key.
 */
import { formatIp, parseIpv4, parseIpv6, unmapIpv4, type IpAddress } from './ipAddress';

export interface TargetAddress {
  scheme: 'http' | 'https';
  /** Lower case, no trailing dot; an IPv6 address in RFC 5952 form without brackets. */
  host: string;
  /** The address when the host is written as one (IPv4-mapped IPv6 unmapped), else null. */
  ip: IpAddress | null;
  port: number;
  /** `''` or `/a/b` (no trailing slash). */
  path: string;
}

export type TargetParse = { ok: true; target: TargetAddress } | { ok: false; problem: string };

const DEFAULT_PORTS = { http: 80, https: 443 } as const;
const NAME_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const PATH = /^(?:\/[A-Za-z0-9._~-]+)+$/;
/** A host whose last label is a number is an IPv4 address to a URL parser (`127.1`, `0x7f000001`). */
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:[0-9]+|0x[0-9a-f]*)$/;

function fail(problem: string): TargetParse {
  return { ok: false, problem };
}

function parseHost(raw: string): { host: string; ip: IpAddress | null } | string {
  if (raw.startsWith('[')) {
    // `raw` is `[...]`: parseTarget cut it at the closing bracket.
    const v6 = parseIpv6(raw.slice(1, -1));
    if (!v6) return `host ${raw} is not an IPv6 address`;
    const ip = unmapIpv4(v6);
    return { host: formatIp(ip), ip };
  }
  const name = raw.toLowerCase().replace(/\.$/, '');
  if (NUMERIC_LAST_LABEL.test(name)) {
    const ip = parseIpv4(name);
    return ip ? { host: formatIp(ip), ip } : `host ${raw} must be an IPv4 address written as four decimal numbers (a.b.c.d)`;
  }
  if (name.length === 0 || name.length > 253 || !name.split('.').every((label) => NAME_LABEL.test(label))) return `host ${raw} is not a valid host name`;
  return { host: name, ip: null };
}

/** Parses a target address, or says in one phrase what is wrong with it. */
export function parseTarget(input: string): TargetParse {
  if (input.length === 0) return fail('is empty');
  if (/[^\x21-\x7e]/.test(input)) return fail('must not contain spaces, control characters (NUL, CR, LF, tab) or non-ASCII characters');
  if (/[?#]/.test(input)) return fail('must not contain a query (?) or fragment (#)');
  if (input.includes('\\')) return fail('must not contain a backslash');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input);
  if (scheme && !/^https?$/i.test(scheme[1])) return fail(`scheme ${scheme[1]} is not http or https`);
  const rest = scheme ? input.slice(scheme[0].length) : input;
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const rawPath = slash < 0 ? '' : rest.slice(slash);
  if (authority.includes('@')) return fail('must not contain user information (user@host)');

  if (authority.startsWith('[') && !authority.includes(']')) return fail(`${authority} lacks the closing bracket of its IPv6 address`);
  const portAt = authority.startsWith('[') ? authority.indexOf(']') + 1 : authority.lastIndexOf(':');
  if (!authority.startsWith('[') && authority.indexOf(':') !== portAt) return fail('must write an IPv6 address in brackets ([::1]:8000)');
  const hasPort = portAt > 0 && authority[portAt] === ':';
  if (portAt > 0 && portAt < authority.length && !hasPort) return fail(`${authority} is not host:port`);
  const hostPart = hasPort || authority.startsWith('[') ? authority.slice(0, portAt) : authority;
  const portText = hasPort ? authority.slice(portAt + 1) : '';
  if (!scheme && !hasPort) return fail('must be host:port or an http(s) URL');
  if (hasPort && !/^[0-9]{1,5}$/.test(portText)) return fail(`port ${portText || '(empty)'} is not a number`);
  const schemeName = (scheme ? scheme[1].toLowerCase() : 'http') as 'http' | 'https';
  const port = hasPort ? Number(portText) : DEFAULT_PORTS[schemeName];
  if (port < 1 || port > 65535) return fail(`port ${portText} is out of range`);

  const host = parseHost(hostPart);
  if (typeof host === 'string') return fail(host);

  const path = rawPath.replace(/\/+$/, '');
  if (path !== '' && (!PATH.test(path) || path.split('/').some((seg) => seg === '.' || seg === '..'))) {
    return fail('path may hold only letters, digits, ".", "_", "~", "-" and single "/" separators, with no "." or ".." segments');
  }
  return { ok: true, target: { scheme: schemeName, host: host.host, ip: host.ip, port, path } };
}

function isLoopback(target: TargetAddress): boolean {
  if (target.ip === null) return target.host === 'localhost';
  return target.ip.family === 4 ? target.ip.bytes[0] === 127 : formatIp(target.ip) === '::1';
}

/** The URL of a parsed target, path included, with an explicit port. */
export function targetUrl(target: TargetAddress): string {
  const host = target.ip?.family === 6 ? `[${target.host}]` : target.host;
  return `${target.scheme}://${host}:${target.port}${target.path}`;
}

/**
 * One key per deployment however it is spelled: scheme, lower-case host, port (the scheme's default
 * when absent) and path. `localhost`, any 127.x.x.x and `::1` are one host, `localhost`, since
 * a replica listening on loopback is reached through all of them. An address that does not parse
 * is its own key (the gateway refuses those before any key is needed).
 */
export function canonicalDeploymentKey(address: string): string {
  const parsed = parseTarget(address);
  if (!parsed.ok) return address;
  const target = parsed.target;
  return targetUrl(isLoopback(target) ? { ...target, host: 'localhost', ip: null } : target);
}

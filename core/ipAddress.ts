/**
 * IP addresses and CIDR networks, parsed strictly and without Node APIs (core/ is also imported by
 * workflow code). Strict means one spelling per address: IPv4 only as four decimal numbers without
 * leading zeros, so `127.1`, `2130706433`, `0x7f.0.0.1` and `0177.0.0.1` (which `inet_aton` and
 * WHATWG URLs read as 127.0.0.1) are not addresses here and the caller refuses them.
 */

export interface IpAddress {
  family: 4 | 6;
  /** 4 bytes for IPv4, 16 for IPv6. */
  bytes: number[];
}

export interface Cidr {
  address: IpAddress;
  prefix: number;
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;

export function parseIpv4(s: string): IpAddress | null {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => DECIMAL_OCTET.test(p))) return null;
  const bytes = parts.map(Number);
  return bytes.every((b) => b <= 255) ? { family: 4, bytes } : null;
}

function parseGroups(s: string): number[] | null {
  if (s === '') return [];
  const groups = s.split(':');
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}

/** IPv6 text (RFC 4291 forms, an embedded IPv4 tail allowed; no zone index) without brackets. */
export function parseIpv6(s: string): IpAddress | null {
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (lastColon < 0) return null;
  if (text.includes('.')) {
    // `::ffff:1.2.3.4` is `::ffff:102:304`: the IPv4 tail becomes its two groups.
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (!v4) return null;
    const [a, b, c, d] = v4.bytes;
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = parseGroups(halves[0]);
  const tail = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  return { family: 6, bytes: groups.flatMap((g) => [g >> 8, g & 0xff]) };
}

/** An IPv4 or IPv6 address; IPv6 may be written in brackets. */
export function parseIp(s: string): IpAddress | null {
  if (s.startsWith('[') && s.endsWith(']')) return parseIpv6(s.slice(1, -1));
  return s.includes(':') ? parseIpv6(s) : parseIpv4(s);
}

/** `::ffff:a.b.c.d` is the IPv4 address a.b.c.d on the wire: it is checked as that address. */
export function unmapIpv4(ip: IpAddress): IpAddress {
  const mapped = ip.family === 6 && ip.bytes.slice(0, 10).every((b) => b === 0) && ip.bytes[10] === 0xff && ip.bytes[11] === 0xff;
  return mapped ? { family: 4, bytes: ip.bytes.slice(12) } : ip;
}

/** Dotted decimal, or RFC 5952 IPv6 (lower case, longest run of two or more zero groups as `::`). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return ip.bytes.join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (ip.bytes[2 * i] << 8) | ip.bytes[2 * i + 1]);
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.len < 2) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

/** `10.0.0.0/8`, `fd00::/8`; a bare address is a network of one. */
export function parseCidr(s: string): Cidr | null {
  const [addr, bits, extra] = s.split('/');
  if (extra !== undefined) return null;
  const address = parseIp(addr);
  if (!address) return null;
  const max = address.family === 4 ? 32 : 128;
  if (bits === undefined) return { address, prefix: max };
  if (!/^(0|[1-9][0-9]{0,2})$/.test(bits) || Number(bits) > max) return null;
  return { address, prefix: Number(bits) };
}

export function cidrContains(cidr: Cidr, candidate: IpAddress): boolean {
  const ip = unmapIpv4(candidate);
  if (ip.family !== cidr.address.family) return false;
  for (let bit = 0; bit < cidr.prefix; bit++) {
    const mask = 0x80 >> bit % 8;
    if ((ip.bytes[bit >> 3] & mask) !== (cidr.address.bytes[bit >> 3] & mask)) return false;
  }
  return true;
}

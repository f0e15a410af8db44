import { cidrContains, formatIp, parseCidr, parseIp, parseIpv4, parseIpv6, unmapIpv4 } from '../../../core/ipAddress';

describe('parseIpv4 accepts only four decimal numbers', () => {
  it.each<[string, number[] | null]>([
    ['127.0.0.1', [127, 0, 0, 1]],
    ['0.0.0.0', [0, 0, 0, 0]],
    ['255.255.255.255', [255, 255, 255, 255]],
    ['256.0.0.1', null],
    ['127.1', null],
    ['2130706433', null],
    ['0177.0.0.1', null],
    ['0x7f.0.0.1', null],
    ['127.0.0.01', null],
    ['1.2.3.4.5', null],
    ['1.2.3.', null],
  ])('%s', (text, bytes) => {
    expect(parseIpv4(text)?.bytes ?? null).toEqual(bytes);
  });
});

describe('parseIpv6 and formatIp (RFC 5952)', () => {
  it.each<[string, string | null]>([
    ['::1', '::1'],
    ['::', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['FE80::1', 'fe80::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8::', '2001:db8::'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
    ['::ffff:169.254.169.254', '::ffff:a9fe:a9fe'],
    ['::ffff:1.2.3', null],
    ['1.2.3.4', null],
    ['1::2::3', null],
    ['1:2:3:4:5:6:7', null],
    ['1:2:3:4:5:6:7:8:9', null],
    ['1:2:3:4::5:6:7:8', null],
    ['12345::', null],
    ['fe80::1%eth0', null],
  ])('%s', (text, formatted) => {
    const ip = parseIpv6(text);
    expect(ip ? formatIp(ip) : null).toBe(formatted);
  });
});

test('parseIp takes either family, IPv6 in brackets too; unmapIpv4 turns ::ffff:a.b.c.d into IPv4', () => {
  expect(parseIp('10.0.0.1')?.family).toBe(4);
  expect(parseIp('[::1]')?.family).toBe(6);
  expect(parseIp('fd00::1')?.family).toBe(6);
  expect(parseIp('example')).toBeNull();
  expect(formatIp(unmapIpv4(parseIp('::ffff:127.0.0.1')!))).toBe('127.0.0.1');
  expect(formatIp(unmapIpv4(parseIp('::1')!))).toBe('::1');
  expect(formatIp(unmapIpv4(parseIp('10.1.2.3')!))).toBe('10.1.2.3');
});

describe('CIDR networks', () => {
  it.each<[string, string, boolean | null]>([
    ['10.0.0.0/8', '10.200.3.4', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['127.0.0.0/8', '::ffff:127.0.0.1', true],
    ['169.254.0.0/16', '169.254.169.254', true],
    ['10.0.0.7', '10.0.0.7', true],
    ['10.0.0.7', '10.0.0.8', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['fe80::/10', 'febf::1', true],
    ['fe80::/10', 'fec0::1', false],
    ['::1/128', '::1', true],
    ['fd00::/8', '10.0.0.1', false],
    ['10.0.0.0/33', '10.0.0.1', null],
    ['10.0.0.0/08', '10.0.0.1', null],
    ['10.0.0.0/8/8', '10.0.0.1', null],
    ['nope/8', '10.0.0.1', null],
  ])('%s contains %s: %s', (cidr, ip, expected) => {
    const network = parseCidr(cidr);
    expect(network ? cidrContains(network, parseIp(ip)!) : null).toBe(expected);
  });
});

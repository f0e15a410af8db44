/** The cluster's ports and rendered server config (scripts/cluster/serverConfig.ts), without starting it. */
import { parse } from 'yaml';
import { clusterPorts, DEFAULT_PORT_BASE, PORT_LIMIT, renderServerConfig } from '../../../scripts/cluster/serverConfig';
import { serverCacheDir } from '../../../scripts/cluster/serverBinaries';

test('every port is distinct and below the SMALLINT limit membership ports are stored in', () => {
  const ports = Object.values(clusterPorts(DEFAULT_PORT_BASE));
  expect(new Set(ports).size).toBe(ports.length);
  expect(Math.max(...ports)).toBeLessThan(PORT_LIMIT);
  expect(ports).not.toEqual(expect.arrayContaining([7233, 8233, 3000, 8080]));
});

test.each([PORT_LIMIT - 13, 40_000, 80, 17233.5])('port base %p is refused with the range it must be in', (base) => {
  expect(() => clusterPorts(base)).toThrow(/below 32768/);
});

test('the rendered config names every port, the PostgreSQL plugin and the dynamic config file, with no placeholder left', () => {
  const ports = clusterPorts(20000);
  const text = renderServerConfig(ports, { pgUser: 'postgres', logLevel: 'warn', dynamicConfigFile: '/x/dc.yaml' });
  expect(text).not.toMatch(/\$\{/);
  const doc = parse(text);
  expect(doc.services.frontend.rpc).toMatchObject({ grpcPort: 20000, membershipPort: 20010, httpPort: 20004 });
  expect(doc.services.history.rpc).toMatchObject({ grpcPort: 20001, membershipPort: 20011 });
  expect(doc.services.matching.rpc).toMatchObject({ grpcPort: 20002, membershipPort: 20012 });
  expect(doc.services.worker.rpc).toMatchObject({ grpcPort: 20003, membershipPort: 20013 });
  for (const store of Object.values(doc.persistence.datastores) as Array<{ sql: { pluginName: string; connectAddr: string } }>) {
    expect(store.sql).toMatchObject({ pluginName: 'postgres12', connectAddr: '127.0.0.1:20005' });
  }
  expect(doc.clusterMetadata.clusterInformation.active.rpcAddress).toBe('127.0.0.1:20000');
  expect(doc.dynamicConfigClient.filepath).toBe('/x/dc.yaml');
});

test('the binaries are cached by version under XDG_CACHE_HOME, or SERVETUNE_TEMPORAL_CACHE_DIR', () => {
  expect(serverCacheDir('1.31.2', { XDG_CACHE_HOME: '/c' })).toBe('/c/servetune/temporal-server/v1.31.2/bin');
  expect(serverCacheDir('1.31.2', { SERVETUNE_TEMPORAL_CACHE_DIR: '/ci/cache', XDG_CACHE_HOME: '/c' })).toBe('/ci/cache/v1.31.2/bin');
});

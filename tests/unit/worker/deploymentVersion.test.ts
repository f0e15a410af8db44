import { version as packageVersion } from '../../../package.json';
import { buildIdFor, DEFAULT_DEPLOYMENT_NAME, deploymentVersionFromEnv, setsCurrentVersion } from '../../../worker/deploymentVersion';

describe('buildIdFor', () => {
  test.each([
    ['same release, same bundle: same build', ['0.1.0', 'code'], ['0.1.0', 'code'], true],
    ['a changed workflow bundle: a new build', ['0.1.0', 'code'], ['0.1.0', 'code!'], false],
    ['a new release of the same bundle: a new build', ['0.1.0', 'code'], ['0.2.0', 'code'], false],
    ['the same code built elsewhere (source map paths differ): same build', ['0.1.0', 'code\n//# sourceMappingURL=data:/a/x'], ['0.1.0', 'code\n//# sourceMappingURL=data:/b/x'], true],
    ['changed code with the same source map: a new build', ['0.1.0', 'code\n//# sourceMappingURL=data:/a/x'], ['0.1.0', 'code2\n//# sourceMappingURL=data:/a/x'], false],
  ] as const)('%s', (_name, a, b, same) => {
    expect(buildIdFor(a[0], a[1]) === buildIdFor(b[0], b[1])).toBe(same);
  });

  test('reads as the release, then 12 hex digits of the bundle hash', () => {
    expect(buildIdFor('0.1.0', 'code')).toMatch(/^0\.1\.0-[0-9a-f]{12}$/);
  });
});

describe('deploymentVersionFromEnv', () => {
  test.each([
    ['defaults: servetune, package version + hash', {}, { deploymentName: DEFAULT_DEPLOYMENT_NAME, buildId: buildIdFor(packageVersion, 'bundle') }],
    ['names from the environment', { SERVETUNE_DEPLOYMENT_NAME: 'tuner-eu', SERVETUNE_BUILD_ID: 'git-abc123' }, { deploymentName: 'tuner-eu', buildId: 'git-abc123' }],
    ['versioning explicitly on', { SERVETUNE_WORKER_VERSIONING: 'ON' }, { deploymentName: DEFAULT_DEPLOYMENT_NAME, buildId: buildIdFor(packageVersion, 'bundle') }],
    ['versioning off: an unversioned worker', { SERVETUNE_WORKER_VERSIONING: 'off' }, null],
  ])('%s', (_name, env, expected) => {
    expect(deploymentVersionFromEnv('bundle', env)).toEqual(expected);
  });

  test.each([
    [{ SERVETUNE_WORKER_VERSIONING: 'maybe' }, /SERVETUNE_WORKER_VERSIONING must be "on" or "off", not "maybe"/],
    [{ SERVETUNE_DEPLOYMENT_NAME: 'servetune.eu' }, /SERVETUNE_DEPLOYMENT_NAME must not contain "\."/],
  ])('rejects %j with an error naming the variable', (env, message) => {
    expect(() => deploymentVersionFromEnv('bundle', env)).toThrow(message);
  });
});

describe('setsCurrentVersion', () => {
  test.each([
    [{}, true],
    [{ SERVETUNE_SET_CURRENT_VERSION: 'on' }, true],
    [{ SERVETUNE_SET_CURRENT_VERSION: 'OFF' }, false],
  ])('%j → %s', (env, expected) => {
    expect(setsCurrentVersion(env)).toBe(expected);
  });

  test('rejects anything else, naming the variable', () => {
    expect(() => setsCurrentVersion({ SERVETUNE_SET_CURRENT_VERSION: '1' })).toThrow(/SERVETUNE_SET_CURRENT_VERSION must be "on" or "off", not "1"/);
  });
});

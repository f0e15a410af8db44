import os from 'node:os';

/**
 * Who acts when `--by` is not given: the login name from the environment, else the OS account's
 * name, so an action is never recorded as "anonymous" by accident. With tokens the gateway records
 * the token's subject instead, whatever the CLI sends.
 */
export function defaultActor(env: NodeJS.ProcessEnv, account: () => string = () => os.userInfo().username): string {
  const fromEnv = env.USER?.trim() || env.LOGNAME?.trim() || env.USERNAME?.trim();
  if (fromEnv) return fromEnv;
  try {
    const name = account().trim();
    if (name) return name;
  } catch {
    // no passwd entry for this uid (some containers): fall through
  }
  return `uid-${process.getuid?.() ?? 'unknown'}`;
}

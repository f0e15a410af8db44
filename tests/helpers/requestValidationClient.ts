import type { Client } from '@temporalio/client';

/**
 * The one mocked Temporal client the tests allow: for request-validation tests, where the point is that
 * a bad request never reaches Temporal. It records what the gateway asked for in `calls`; a read of a
 * rollout (`getHandle`) is never expected and throws.
 */
export function requestValidationClient(): { client: Client; calls: string[] } {
  const calls: string[] = [];
  const client = {
    connection: { withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn() },
    workflow: {
      start: async () => void calls.push('start'),
      executeUpdateWithStart: async () => void calls.push('start'),
      list: () => {
        calls.push('list');
        return (async function* () {})();
      },
      getHandle: () => {
        calls.push('getHandle');
        throw new Error('must not be reached');
      },
    },
  } as unknown as Client;
  return { client, calls };
}

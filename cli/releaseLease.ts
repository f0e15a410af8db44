/**
 * `servetune release-lease --replica URL…`: the operator's way to free replicas whose rollout is gone
 * (terminated, or its worker lost for good) before their leases expire (docs/replica-leases.md). It
 * talks to each replica's agent directly, not to the gateway. Without `--holder` it releases whoever
 * holds the replica (a forced release); with `--holder ID` only that rollout's lease.
 */
import type { Command } from 'commander';
import axios, { isAxiosError } from 'axios';
import { replicaUrl } from '../activities/replicaAddress';
import { LeaseHeldBodySchema, LeaseReleaseSchema, type LeaseRelease } from '../models';
import { CliError, type CliIO } from './io';

interface ReleaseOptions {
  replica?: string[];
  holder?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

async function releaseOne(address: string, holder: string | undefined, timeoutMs: number): Promise<LeaseRelease> {
  const query = holder === undefined ? 'force=1' : `holder=${encodeURIComponent(holder)}`;
  try {
    const res = await axios.delete(replicaUrl(address, `/servetune/v1/lease?${query}`), { timeout: timeoutMs });
    return LeaseReleaseSchema.parse(res.data);
  } catch (err) {
    if (isAxiosError(err) && err.response) {
      const held = LeaseHeldBodySchema.safeParse(err.response.data);
      if (held.success) throw new CliError(`${address}: held by rollout ${held.data.lease.holder} until ${held.data.lease.expires_at}, not by ${holder}; left alone`);
      if (err.response.status === 404) throw new CliError(`${address}: no lease route (an agent older than replica leases, or not a replica)`);
      throw new CliError(`${address}: HTTP ${err.response.status} ${JSON.stringify(err.response.data).slice(0, 300)}`);
    }
    throw new CliError(`${address}: ${(err as Error).message}`);
  }
}

export function registerReleaseLease(program: Command, io: CliIO, timeoutMs = 10_000): Command {
  return program
    .command('release-lease')
    .description("free replicas held by a rollout that is gone (terminated): the next rollout may then change them")
    .requiredOption('--replica <url>', 'a replica (its agent URL); repeat for several', collect)
    .option('--holder <id>', 'release only if this rollout (workflow id) holds it; default: whoever holds it')
    .option('--json', 'print each replica\'s answer as JSON')
    .action(async (options: ReleaseOptions) => {
      const answers: Array<{ replica: string } & LeaseRelease> = [];
      for (const replica of options.replica ?? []) {
        const answer = await releaseOne(replica, options.holder, timeoutMs);
        answers.push({ replica, ...answer });
        if (!options.json) {
          io.out(answer.released ? `${replica}: released the lease of rollout ${answer.released_holder}\n` : `${replica}: no lease held; nothing to release\n`);
        }
      }
      if (options.json) io.out(`${JSON.stringify(answers, null, 2)}\n`);
    });
}

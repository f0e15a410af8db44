/**
 * A rollout plans its change from the config its replicas run and rolls back to it, so it needs them
 * to run one config. A fleet left half-changed (a terminated rollout, a hand edit) would otherwise be
 * planned from its first replica's config and have changes the plan never listed pushed to the rest.
 */
import type { ConfigRun } from './fleetRef';
import { sameConfig } from './fleetRef';

interface ConfigGroup {
  revision: string;
  replicas: number;
}

/** Distinct configs among the runs (runs of one config that are not adjacent count once), largest first. */
export function configGroups(runs: ConfigRun[]): ConfigGroup[] {
  const groups: Array<ConfigGroup & { run: ConfigRun }> = [];
  for (const run of runs) {
    const size = run.to - run.from;
    const group = groups.find((g) => sameConfig(g.run, run));
    if (group) group.replicas += size;
    else groups.push({ run, revision: run.revision, replicas: size });
  }
  return groups.sort((a, b) => b.replicas - a.replicas).map(({ revision, replicas }) => ({ revision, replicas }));
}

/** Why the fleet cannot be planned from one config, or null when it runs one. */
export function mixedConfigProblem(runs: ConfigRun[]): string | null {
  const groups = configGroups(runs);
  if (groups.length <= 1) return null;
  const total = groups.reduce((n, g) => n + g.replicas, 0);
  // Two groups can share a revision name when someone edited args by hand without a new revision.
  const named = new Set<string>();
  const listed = groups
    .map((g) => {
      const label = named.has(g.revision) ? `${g.revision} (other args)` : g.revision;
      named.add(g.revision);
      return `${label} on ${g.replicas}`;
    })
    .join(', ');
  return (
    `the ${total} replicas run ${groups.length} different configs (${listed}); ` +
    'a rollout plans from one config, so nothing was pushed: put the replicas back on one config ' +
    '(or name the replicas that share one in `replicas`) and start again'
  );
}

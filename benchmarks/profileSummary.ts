/**
 * Top self-time functions of a V8 CPU profile (`node --cpu-prof`):
 *
 *   npx tsx benchmarks/profileSummary.ts benchmarks/profiles/<file>.cpuprofile [top=15]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  share: number;
}

export function topSelfTime(file: string, top = 15): { total: number; rows: SelfTime[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const grouped = new Map<string, SelfTime>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const name = frame.functionName || '(anonymous)';
    const url = frame.url.replace(/^file:\/\//, '');
    const where = url ? `${path.relative(process.cwd(), url).replace(/^(\.\.\/)+/, '')}:${frame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    const row = grouped.get(key) ?? { name, where, ms: 0, share: 0 };
    row.ms += us / 1000;
    grouped.set(key, row);
    total += us / 1000;
  }
  const rows = [...grouped.values()].sort((a, b) => b.ms - a.ms).slice(0, top);
  for (const r of rows) r.share = r.ms / total;
  return { total, rows };
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: tsx benchmarks/profileSummary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  const { total, rows } = topSelfTime(file, Number(top ?? 15));
  console.log(`${(total / 1000).toFixed(1)} s of samples`);
  for (const r of rows) console.log(`${(r.share * 100).toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}  ${r.where}`);
}

import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where a V8 CPU profile (BENCH_PROFILE=1) spent its time: self time per function and per
 * package, the numbers behind docs/performance.md's profile.
 *   node --import tsx bench/profile-summary.ts bench/results/profiles/<name>.cpuprofile [top]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `node_modules/@temporalio/worker/lib/x.js` → `@temporalio/worker`; our code and Node's own by area. */
function packageOf(url: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1] as string;
  if (url.startsWith('node:') || url === '') return url || '(native / idle / gc)';
  return path
    .relative(process.cwd(), url.replace(/^file:\/\//, ''))
    .split(path.sep)
    .slice(0, 2)
    .join('/');
}

export function summarize(profile: CpuProfile, top = 15): string {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id)?.callFrame;
    const micros = profile.timeDeltas[i] ?? 0;
    if (!frame || frame.functionName === '(idle)') return;
    total += micros;
    const where = `${frame.functionName || '(anonymous)'} ${packageOf(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(where, (byFunction.get(where) ?? 0) + micros);
    byPackage.set(packageOf(frame.url), (byPackage.get(packageOf(frame.url)) ?? 0) + micros);
  });
  const table = (entries: Map<string, number>) =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => `${((100 * micros) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  return `busy ${(total / 1e6).toFixed(1)} s (idle excluded)\n\nby package:\n${table(byPackage)}\n\nby function (self time):\n${table(byFunction)}`;
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
  console.log(summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(top ?? 15)));
}

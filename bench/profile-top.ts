// Prints the top functions of a V8 .cpuprofile (from `node --cpu-prof`) by self time and by total
// (inclusive) time, so a profile can be read without a browser.
// Run: node dist/bench/profile-top.js <file.cpuprofile> [rows=30]
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function isProfile(v: unknown): v is CpuProfile {
  return (
    typeof v === 'object' &&
    v !== null &&
    Array.isArray((v as CpuProfile).nodes) &&
    Array.isArray((v as CpuProfile).samples) &&
    Array.isArray((v as CpuProfile).timeDeltas)
  );
}

function label(f: CallFrame): string {
  const file = f.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/').replace(/^node:/, '');
  return `${f.functionName || '(anonymous)'} ${file ? `${file}:${f.lineNumber + 1}` : ''}`.trim();
}

function main(): void {
  const [file, rowsArg, lastArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-top <file.cpuprofile> [rows] [last-seconds]');
  const rows = Number(rowsArg ?? 30);
  // Only the samples of the profile's last N seconds (the phase of a benchmark that ran last).
  const lastUs = lastArg === undefined ? Infinity : Number(lastArg) * 1e6;
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isProfile(parsed)) throw new Error(`${file} is not a V8 CPU profile`);
  const byId = new Map(parsed.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of parsed.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  const spanUs = parsed.timeDeltas.reduce((a, b) => a + b, 0);
  let atUs = 0;
  parsed.samples.forEach((id, i) => {
    const dt = parsed.timeDeltas[i] ?? 0;
    atUs += dt;
    if (spanUs - atUs > lastUs) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    totalUs += dt;
  });
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const key = label(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + us);
    // Inclusive: charge each distinct function on the stack once.
    const onStack = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      onStack.add(label(byId.get(cur)!.callFrame));
    }
    for (const k of onStack) total.set(k, (total.get(k) ?? 0) + us);
  }
  // A reader that stops early (head) is not an error.
  process.stdout.on('error', () => process.exit(0));
  const pct = (us: number): string => `${((us / totalUs) * 100).toFixed(1).padStart(5)}%`;
  const print = (title: string, m: Map<string, number>): void => {
    process.stdout.write(`\n== ${title} (of ${(totalUs / 1e6).toFixed(2)} s sampled)\n`);
    for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows))
      process.stdout.write(`${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}\n`);
  };
  print('self time', self);
  print('total time', total);
}

main();

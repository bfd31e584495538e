// The whole test suite: compile, then node's built-in runner over every compiled *.test.js.
// Unit tests sit beside the code (src/**), integration and end-to-end tests under test/.
// --unit runs only src/**; a path filter narrows further (node scripts/run-tests.mjs storage).
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const unitOnly = args.includes('--unit');
const filters = args.filter((a) => !a.startsWith('--'));

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], {
  stdio: 'inherit',
});

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const roots = unitOnly ? ['dist/src'] : ['dist/src', 'dist/test'];
const files = roots
  .flatMap((r) => {
    try {
      return walk(r, []);
    } catch {
      return [];
    }
  })
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

// Tests that own host-wide state (containerd, the k8ts0 CNI bridge and its pod network) run one at a
// time after the rest, holding a lock on the host so that another run of them (a second checkout, a
// benchmark) waits instead of fighting over the bridge; everything else runs two files at a time.
const HOST_WIDE = /\/e2e\/(cri-|node-|streaming)/;
const HOST_LOCK = '/tmp/k8ts-containerd-e2e.lock';
const groups = [
  { files: files.filter((f) => !HOST_WIDE.test(f)), concurrency: 2, hostLock: false },
  { files: files.filter((f) => HOST_WIDE.test(f)), concurrency: 1, hostLock: true },
].filter((g) => g.files.length > 0);

function hasFlock() {
  try {
    execFileSync('flock', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// The spec reporter for people; its closing totals ("ℹ pass N") give the plain summary line CI reads.
async function runGroup({ files: groupFiles, concurrency, hostLock }) {
  const locked = hostLock && hasFlock();
  const child = spawn(
    locked ? 'flock' : process.execPath,
    [
      ...(locked ? [HOST_LOCK, process.execPath] : []),
      '--test',
      `--test-concurrency=${concurrency}`,
      // A test that hangs fails on its own instead of holding up the run; a file whose tests are done
      // exits even if something left a handle open (the leak tests check handles explicitly).
      '--test-timeout=180000',
      '--test-force-exit',
      '--enable-source-maps',
      '--test-reporter=spec',
      ...groupFiles,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, K8TS_LOG_LEVEL: process.env.K8TS_LOG_LEVEL ?? 'warn' },
    },
  );
  let tail = '';
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    tail = (tail + chunk.toString()).slice(-8192);
  });
  const status = await new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const count = (name) => Number(new RegExp(`^ℹ ${name} (\\d+)$`, 'm').exec(tail)?.[1] ?? 0);
  return {
    status,
    passed: count('pass'),
    failed: count('fail') + count('cancelled'),
    skipped: count('skipped'),
  };
}

let passed = 0;
let failed = 0;
let skipped = 0;
let status = 0;
for (const group of groups) {
  const r = await runGroup(group);
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped;
  if (r.status !== 0) status = r.status;
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status === 0 && failed === 0 && passed > 0 ? 0 : 1);

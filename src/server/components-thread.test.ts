// The main thread's side of the components' thread, against stand-in workers that speak its messages.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setLogSink } from '../util/log.js';
import type { ComponentsConfig } from './components.js';
import { startComponentsThread } from './components-thread.js';

const dir = mkdtempSync(join(tmpdir(), 'k8ts-components-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG: ComponentsConfig = { url: 'https://127.0.0.1:1', caPem: '', caKeyPem: '', identity: 'test' };

function worker(name: string, body: string): URL {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, `import { parentPort } from 'node:worker_threads';\n${body}\n`);
  return pathToFileURL(file);
}

const noFailure = (err: Error): void => assert.fail(`unexpected failure: ${err.message}`);

test('log lines, metrics and stop go through the thread’s messages', async () => {
  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  const url = worker(
    'healthy',
    `parentPort.postMessage({ type: 'log', line: '{"msg":"from the thread"}' });
     parentPort.postMessage({ type: 'started' });
     parentPort.on('message', (m) => {
       if (m.type === 'metrics')
         parentPort.postMessage({ type: 'metrics', id: m.id, families: [
           { name: 'workqueue_depth', help: 'Depth.', type: 'gauge', samples: [['workqueue_depth{name="q"}', 3]] } ] });
       if (m.type === 'stop') { parentPort.postMessage({ type: 'stopped' }); parentPort.close(); }
     });`,
  );
  const thread = await startComponentsThread(CONFIG, { onFailure: noFailure, workerUrl: url });
  assert.deepEqual(lines, ['{"msg":"from the thread"}']);
  const families = await thread.metrics();
  assert.equal(families[0]?.name, 'workqueue_depth');
  await thread.stop();
  assert.deepEqual(await thread.metrics(), [], 'a stopped thread has no metrics');
});

test('a thread that cannot start its components makes the start fail with its reason', async () => {
  const url = worker('failing', `parentPort.postMessage({ type: 'failed', error: 'no API server' });`);
  await assert.rejects(
    startComponentsThread(CONFIG, { onFailure: noFailure, workerUrl: url }),
    /control-plane components failed to start: no API server/,
  );
});

test('a thread that dies after starting is reported once through onFailure', async () => {
  const url = worker(
    'crashing',
    `parentPort.postMessage({ type: 'started' });
     setTimeout(() => { throw new Error('a controller threw'); }, 20);`,
  );
  const failures: Error[] = [];
  let reported!: () => void;
  const failed = new Promise<void>((r) => (reported = r));
  const thread = await startComponentsThread(CONFIG, {
    onFailure: (err) => {
      failures.push(err);
      reported();
    },
    workerUrl: url,
  });
  await failed;
  assert.equal(failures.length, 1);
  assert.match(failures[0]!.message, /a controller threw/);
  await thread.stop();
});

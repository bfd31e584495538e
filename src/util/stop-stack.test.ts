import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, setLogSink } from './log.js';
import { StopStack } from './stop-stack.js';

test('stops newest first, each once, logging a failure and going on', async () => {
  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  const order: string[] = [];
  const stack = new StopStack(createLogger('test'), 'stopping a part failed');
  stack.push(() => void order.push('store'));
  stack.push(() => {
    throw new Error('socket busy');
  });
  stack.push(async () => {
    await Promise.resolve();
    order.push('server');
  });
  await stack.stopAll();
  await stack.stopAll();
  assert.deepEqual(order, ['server', 'store']);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /"level":"error".*"msg":"stopping a part failed".*"error":"socket busy"/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForSignal } from './signals.js';

const listeners = (): number => process.listenerCount('SIGINT') + process.listenerCount('SIGTERM');

test('resolves with the first signal and takes its handlers away', async () => {
  const before = listeners();
  const waiting = waitForSignal();
  assert.equal(listeners(), before + 2);
  process.emit('SIGTERM', 'SIGTERM');
  assert.equal(await waiting, 'SIGTERM');
  assert.equal(listeners(), before);
});

test('an abort ends the wait without a signal, and takes the handlers away too', async () => {
  const before = listeners();
  const abort = new AbortController();
  const waiting = waitForSignal(abort.signal);
  abort.abort();
  assert.equal(await waiting, undefined);
  assert.equal(listeners(), before);
  const aborted = new AbortController();
  aborted.abort();
  assert.equal(await waitForSignal(aborted.signal), undefined);
  assert.equal(listeners(), before);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RestClient } from '../client/rest.js';
import { createControllerManager, registerController, registeredControllers } from './manager.js';

const client = new RestClient({ server: 'http://127.0.0.1:9', namespace: 'default' });

test('the built-in controllers are registered under upstream names', () => {
  const names = registeredControllers();
  for (const n of ['replicaset', 'replicationcontroller', 'deployment']) assert.ok(names.includes(n), n);
  assert.throws(
    () => registerController({ name: 'deployment', start: () => () => Promise.resolve() }),
    /already registered/,
  );
});

test('disable and enable choose what a manager runs; extra controllers can be passed per manager', () => {
  const m = createControllerManager({ client, disable: ['replicationcontroller'] });
  assert.ok(!m.controllers.includes('replicationcontroller'));
  assert.ok(m.controllers.includes('deployment'));
  const only = createControllerManager({
    client,
    enable: ['mine'],
    controllers: [{ name: 'mine', start: () => () => Promise.resolve() }],
  });
  assert.deepEqual(only.controllers, ['mine']);
});

test('a manager that never started stops cleanly and reports not running', async () => {
  const m = createControllerManager({ client });
  assert.equal(m.isRunning(), false);
  await m.stop();
  assert.equal(await m.whenRunning(), false);
});

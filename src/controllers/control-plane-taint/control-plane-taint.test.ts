import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Node, Taint } from '../../api/generated/types.js';
import { NODES } from '../../client/typed-refs.js';
import type { SharedInformer } from '../../client/informer.js';
import { createLogger } from '../../util/log.js';
import { fakeInformer, put, remove } from '../testing.js';
import {
  CONTROL_PLANE_LABEL,
  ControlPlaneTaintController,
  MANAGED_ANNOTATION,
  type ControlPlaneTaintClient,
} from './control-plane-taint.js';

class FakeClient implements ControlPlaneTaintClient {
  writes = 0;
  constructor(private readonly nodes: SharedInformer<Node>) {}
  async setTaints(node: Node, taints: Taint[], managed: boolean): Promise<void> {
    await Promise.resolve();
    this.writes++;
    const cur = structuredClone(this.nodes.get(undefined, node.metadata.name ?? '')!);
    cur.spec = { ...(cur.spec ?? {}), taints };
    const annotations = { ...(cur.metadata.annotations ?? {}) };
    if (managed) annotations[MANAGED_ANNOTATION] = 'true';
    else delete annotations[MANAGED_ANNOTATION];
    cur.metadata.annotations = annotations;
    put(this.nodes, cur);
  }
}

function node(name: string, controlPlane: boolean, taints?: Taint[]): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: controlPlane ? { [CONTROL_PLANE_LABEL]: '' } : {} },
    spec: taints ? { taints } : {},
  };
}

function setup() {
  const nodes = fakeInformer<Node>(NODES);
  const client = new FakeClient(nodes);
  const controller = new ControlPlaneTaintController({
    nodes: nodes.getLister(),
    client,
    log: createLogger('test'),
  });
  const taintsOf = (name: string): string[] =>
    (nodes.get(undefined, name)?.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`);
  return { nodes, client, controller, taintsOf };
}

describe('control-plane taint', () => {
  test('a single control-plane node stays schedulable', async () => {
    const { nodes, client, controller, taintsOf } = setup();
    put(nodes, node('server', true));
    await controller.sync();
    assert.deepEqual(taintsOf('server'), []);
    assert.equal(client.writes, 0);
  });

  test('a worker joins: the control plane is tainted NoSchedule; it leaves: the taint goes', async () => {
    const { nodes, controller, taintsOf } = setup();
    put(nodes, node('server', true, [{ key: 'other', effect: 'NoExecute' }]));
    const worker = put(nodes, node('worker', false));
    await controller.sync();
    assert.deepEqual(taintsOf('server'), ['other:NoExecute', `${CONTROL_PLANE_LABEL}:NoSchedule`]);
    assert.deepEqual(taintsOf('worker'), []);
    await controller.sync();
    assert.equal(taintsOf('server').length, 2, 'not added twice');
    remove(nodes, worker);
    await controller.sync();
    assert.deepEqual(taintsOf('server'), ['other:NoExecute']);
  });

  test("an administrator's own control-plane taint is left alone on a single node", async () => {
    const { nodes, client, controller, taintsOf } = setup();
    put(nodes, node('server', true, [{ key: CONTROL_PLANE_LABEL, effect: 'NoSchedule' }]));
    await controller.sync();
    assert.deepEqual(taintsOf('server'), [`${CONTROL_PLANE_LABEL}:NoSchedule`]);
    assert.equal(client.writes, 0);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeNode, makePod } from '../../testing/builders.js';
import { nodeInfoWith, onlyPlugin, testCluster } from '../../testing/framework.js';

describe('NodePorts', () => {
  it('rejects a node where the host port is taken', () => {
    const c = testCluster(
      [makeNode('a'), makeNode('b')],
      [makePod('web', { nodeName: 'a', hostPorts: [8080] })],
      onlyPlugin('NodePorts'),
    );
    const r = c.filterAll(makePod('p', { hostPorts: [8080] }));
    assert.equal(r.get('a'), "node(s) didn't have free ports for the requested pod ports");
    assert.equal(r.get('b'), '');
    assert.equal(c.filterAll(makePod('q', { hostPorts: [9090] })).get('a'), '');
  });

  it('treats 0.0.0.0 as conflicting with every IP and distinct IPs as independent', () => {
    const hp = (ip: string, protocol = 'TCP') => ({ ip, protocol, port: 80 });
    assert.equal(nodeInfoWith(makeNode('empty')).portConflicts(hp('0.0.0.0')), false);
    const pod = makePod('ip');
    pod.spec!.containers[0]!.ports = [{ containerPort: 80, hostPort: 80, hostIP: '10.0.0.1' }];
    const ni = nodeInfoWith(makeNode('n'), [pod]);
    assert.equal(ni.portConflicts(hp('10.0.0.1')), true);
    assert.equal(ni.portConflicts(hp('10.0.0.2')), false);
    assert.equal(ni.portConflicts(hp('0.0.0.0')), true);
    assert.equal(ni.portConflicts(hp('10.0.0.1', 'UDP')), false);
    ni.removePod(ni.pods[0]!.key);
    assert.equal(ni.portConflicts(hp('10.0.0.1')), false);
  });
});

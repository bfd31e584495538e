import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CONFIG_HASH_ANNOTATION,
  CONFIG_MIRROR_ANNOTATION,
  CONFIG_SEEN_ANNOTATION,
  CONFIG_SOURCE_ANNOTATION,
  isMirrorOf,
  isMirrorPod,
  isStaticPod,
  ManifestError,
  mirrorPodFor,
  parseManifest,
  runtimePodOf,
  staticPodFromManifest,
} from './static-pod.js';

const YAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: busybox:1.36
`;

describe('static pod manifests', () => {
  it('names the pod after its node, defaults the namespace, binds and annotates it', () => {
    const seen = new Date('2026-01-02T03:04:05.678Z');
    const pod = staticPodFromManifest(parseManifest(YAML, '/m/web.yaml'), 'node-a', '/m/web.yaml', seen);
    assert.equal(pod.metadata.name, 'web-node-a');
    assert.equal(pod.metadata.namespace, 'default');
    assert.equal(pod.spec?.nodeName, 'node-a');
    assert.match(pod.metadata.uid ?? '', /^[0-9a-f]{32}$/);
    assert.equal(pod.metadata.annotations?.[CONFIG_HASH_ANNOTATION], pod.metadata.uid);
    assert.equal(pod.metadata.annotations?.[CONFIG_SOURCE_ANNOTATION], 'file');
    assert.equal(pod.metadata.annotations?.[CONFIG_SEEN_ANNOTATION], '2026-01-02T03:04:05.678Z');
    assert.deepEqual(pod.spec?.tolerations, [{ operator: 'Exists', effect: 'NoExecute' }]);
    // Defaulted as the API server would.
    assert.equal(pod.spec?.restartPolicy, 'Always');
    assert.equal(pod.spec?.containers[0]?.imagePullPolicy, 'IfNotPresent');
    assert.equal(pod.status?.phase, 'Pending');
    assert.ok(isStaticPod(pod));
    assert.ok(!isMirrorPod(pod));
  });

  it('keeps a namespace the manifest gives', () => {
    const m = parseManifest(YAML.replace('  name: web', '  name: web\n  namespace: kube-system'), 'f');
    assert.equal(staticPodFromManifest(m, 'n', 'f').metadata.namespace, 'kube-system');
  });

  it('hashes what the file says: same content same UID, any change a new one', () => {
    const a = staticPodFromManifest(parseManifest(YAML, 'f'), 'n', 'f');
    const json = JSON.stringify({
      kind: 'Pod',
      spec: { containers: [{ image: 'busybox:1.36', name: 'app' }] },
      metadata: { name: 'web' },
      apiVersion: 'v1',
    });
    const b = staticPodFromManifest(parseManifest(json, 'f'), 'n', 'f');
    assert.equal(a.metadata.uid, b.metadata.uid, 'layout and key order do not matter');
    const c = staticPodFromManifest(parseManifest(YAML.replace('1.36', '1.37'), 'f'), 'n', 'f');
    assert.notEqual(a.metadata.uid, c.metadata.uid);
    const d = staticPodFromManifest(parseManifest(YAML, 'f'), 'other', 'f');
    assert.notEqual(a.metadata.uid, d.metadata.uid, 'another node, another pod');
  });

  it('takes the first document of a multi-document file', () => {
    const m = parseManifest(`${YAML}---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: second\n`, 'f');
    assert.equal(staticPodFromManifest(m, 'n', 'f').metadata.name, 'web-n');
  });

  it('rejects what is not a valid pod, naming the file', () => {
    assert.throws(() => parseManifest('', '/m/empty.yaml'), /\/m\/empty\.yaml: the file is empty/);
    assert.throws(() => parseManifest('{nope', '/m/x.json'), ManifestError);
    assert.throws(() => parseManifest('a: [1\n', '/m/x.yaml'), /invalid YAML/);
    assert.throws(() => parseManifest('- 1\n', '/m/x.yaml'), /must be a Pod object/);
    const kind = parseManifest(YAML.replace('kind: Pod', 'kind: Service'), 'f');
    assert.throws(() => staticPodFromManifest(kind, 'n', 'f'), /expected kind "Pod"/);
    const noName = parseManifest(YAML.replace('  name: web\n', '  labels: {}\n'), 'f');
    assert.throws(() => staticPodFromManifest(noName, 'n', 'f'), /metadata.name: Required value/);
    const noImage = parseManifest(YAML.replace('    image: busybox:1.36\n', ''), '/m/bad.yaml');
    assert.throws(
      () => staticPodFromManifest(noImage, 'n', '/m/bad.yaml'),
      /^ManifestError: \/m\/bad.yaml: invalid pod: .*image/,
    );
  });

  it('mirrors a static pod without UID, with its hash, owned by the node', () => {
    const pod = staticPodFromManifest(parseManifest(YAML, 'f'), 'n', 'f');
    const mirror = mirrorPodFor(pod, { name: 'n', uid: 'node-uid' });
    assert.equal(mirror.metadata.uid, undefined);
    assert.equal(mirror.status, undefined);
    assert.equal(mirror.metadata.name, 'web-n');
    assert.equal(mirror.metadata.annotations?.[CONFIG_MIRROR_ANNOTATION], pod.metadata.uid);
    assert.deepEqual(mirror.metadata.ownerReferences, [
      { apiVersion: 'v1', kind: 'Node', name: 'n', uid: 'node-uid', controller: true },
    ]);
    assert.ok(isMirrorPod(mirror));
    assert.ok(isMirrorOf(mirror, pod));
    const changed = staticPodFromManifest(parseManifest(YAML.replace('1.36', '1.37'), 'f'), 'n', 'f');
    assert.ok(!isMirrorOf(mirror, changed));
    assert.ok(!isMirrorOf({ ...mirror, metadata: { ...mirror.metadata, deletionTimestamp: 'x' } }, pod));
  });

  it('maps a mirror pod to its static pod for the runtime (its UID is the hash)', () => {
    const pod = staticPodFromManifest(parseManifest(YAML, 'f'), 'n', 'f');
    const mirror = { ...mirrorPodFor(pod, { name: 'n', uid: 'node-uid' }) };
    mirror.metadata = { ...mirror.metadata, uid: 'api-uid' };
    assert.equal(runtimePodOf(mirror).metadata.uid, pod.metadata.uid);
    const plain = { ...pod, metadata: { ...pod.metadata, annotations: {}, uid: 'u' } };
    assert.equal(runtimePodOf(plain), plain);
  });
});

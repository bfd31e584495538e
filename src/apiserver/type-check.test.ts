// Wrongly typed fields are refused at decoding with encoding/json's messages, as upstream does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinResources } from '../api/kinds/index.js';
import { startTestServer, type TestServer } from './test-server.js';

let t: TestServer;
before(async () => {
  t = await startTestServer({ resources: builtinResources });
});
after(() => t.close());

test('creates with wrongly typed fields get 400 with the decoder message', async () => {
  const cm = await t.request('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 5 } });
  assert.equal(cm.status, 400);
  assert.equal(
    cm.json.message,
    'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string',
  );
  const data = await t.request('POST', '/api/v1/namespaces/default/configmaps', {
    metadata: { name: 'x' },
    data: { a: 1 },
  });
  assert.match(
    String(data.json.message),
    /json: cannot unmarshal number into Go struct field ConfigMap\.data of type string$/,
  );
  const replicas = await t.request('POST', '/apis/apps/v1/namespaces/default/deployments', {
    metadata: { name: 'd' },
    spec: { replicas: 1.5, selector: { matchLabels: { a: 'b' } } },
  });
  assert.match(
    String(replicas.json.message),
    /json: cannot unmarshal number 1\.5 into Go struct field DeploymentSpec\.spec\.replicas of type int32$/,
  );
  const containers = await t.request('POST', '/api/v1/namespaces/default/pods', {
    metadata: { name: 'p' },
    spec: { containers: ['nginx'] },
  });
  assert.match(
    String(containers.json.message),
    /json: cannot unmarshal string into Go struct field PodSpec\.spec\.containers of type v1\.Container$/,
  );
  const secret = await t.request('POST', '/api/v1/namespaces/default/secrets', {
    metadata: { name: 's' },
    data: { k: 'not base64!' },
  });
  assert.equal(secret.status, 400);
  assert.match(String(secret.json.message), /illegal base64 data at input byte 3$/);
  // Quantities and int-or-strings take numbers and strings alike.
  const ok = await t.request('POST', '/api/v1/namespaces/default/pods', {
    metadata: { name: 'ok' },
    spec: {
      containers: [
        {
          name: 'c',
          image: 'i',
          resources: { requests: { cpu: 1, memory: '1Gi' } },
          livenessProbe: { httpGet: { port: 'http' } },
          readinessProbe: { httpGet: { port: 8080 } },
        },
      ],
    },
  });
  assert.equal(ok.status, 201, ok.text);
});

test('patches that produce wrongly typed fields get 400', async () => {
  assert.equal(
    (await t.request('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'pp' } })).status,
    201,
  );
  const r = await t.request(
    'PATCH',
    '/api/v1/namespaces/default/configmaps/pp',
    { data: { a: true } },
    {
      'Content-Type': 'application/merge-patch+json',
    },
  );
  assert.equal(r.status, 400);
  assert.equal(
    r.json.message,
    'json: cannot unmarshal bool into Go struct field ConfigMap.data of type string',
  );
});

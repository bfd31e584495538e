import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderContainerdConfig } from './config.js';
import { runtimePaths } from './paths.js';
import { parseRegistries, RegistriesError, renderHostsToml, writeHostsDir } from './registries.js';

const YAML = `
mirrors:
  docker.io:
    endpoint:
      - "http://127.0.0.1:5000"
  "*":
    endpoint: ["https://mirror.example:8443"]
configs:
  "127.0.0.1:5000":
    tls:
      insecure_skip_verify: true
  "mirror.example:8443":
    tls:
      ca_file: /etc/ssl/mirror-ca.pem
      cert_file: /etc/ssl/client.pem
      key_file: /etc/ssl/client.key
    auth:
      username: alice
      password: "p\\"w"
`;

describe('registries.yaml', () => {
  it('parses mirrors and configs', () => {
    const r = parseRegistries(YAML);
    assert.deepEqual(r.mirrors['docker.io'], { endpoints: ['http://127.0.0.1:5000'] });
    assert.equal(r.configs['127.0.0.1:5000']?.tls?.insecureSkipVerify, true);
    assert.equal(r.configs['mirror.example:8443']?.auth?.password, 'p"w');
  });

  it('names the bad field', () => {
    assert.throws(() => parseRegistries('mirrors:\n  docker.io:\n    endpoint: ftp://x\n'), RegistriesError);
    assert.throws(
      () => parseRegistries('mirrors:\n  docker.io:\n    endpoint: ["ftp://x"]\n'),
      /not an http\(s\) URL/,
    );
    assert.throws(
      () => parseRegistries('configs:\n  h:\n    tls:\n      insecure_skip_verify: "yes"\n'),
      /insecure_skip_verify/,
    );
  });

  it('renders hosts.toml: the mirror first, the upstream as server', () => {
    const r = parseRegistries(YAML);
    const toml = renderHostsToml('docker.io', r);
    assert.match(toml, /^server = "https:\/\/registry-1\.docker\.io"$/m);
    assert.match(
      toml,
      /^\[host\."http:\/\/127\.0\.0\.1:5000"\]\n  capabilities = \["pull", "resolve"\]\n  skip_verify = true$/m,
    );
    const wild = renderHostsToml('*', r);
    assert.doesNotMatch(wild, /^server/m);
    assert.match(wild, /ca = "\/etc\/ssl\/mirror-ca\.pem"/);
    assert.match(wild, /client = \[\["\/etc\/ssl\/client\.pem", "\/etc\/ssl\/client\.key"\]\]/);
  });

  it('writes one folder per registry, _default for the wildcard', () => {
    const dir = mkdtempSync(join(tmpdir(), 'k8ts-hosts-'));
    try {
      writeHostsDir(dir, parseRegistries(YAML));
      assert.match(readFileSync(join(dir, 'docker.io', 'hosts.toml'), 'utf8'), /127\.0\.0\.1:5000/);
      assert.match(readFileSync(join(dir, '_default', 'hosts.toml'), 'utf8'), /mirror\.example/);
      assert.match(
        readFileSync(join(dir, 'mirror.example:8443', 'hosts.toml'), 'utf8'),
        /^server = "https:\/\/mirror\.example:8443"$/m,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('containerd config.toml', () => {
  it('keeps everything under the data dir and sets the CRI plugin as k3s does', () => {
    const paths = runtimePaths('/var/lib/k8ts');
    const toml = renderContainerdConfig({
      paths,
      sandboxImage: 'docker.io/k8ts/pause:1',
      snapshotter: 'overlayfs',
      cniBinDir: '/usr/lib/cni',
      registries: parseRegistries(YAML),
    });
    for (const line of [
      'version = 2',
      'root = "/var/lib/k8ts/agent/containerd"',
      'state = "/var/lib/k8ts/run/containerd"',
      '  address = "/var/lib/k8ts/run/containerd/containerd.sock"',
      '  restrict_oom_score_adj = true',
      '  sandbox_image = "docker.io/k8ts/pause:1"',
      '  snapshotter = "overlayfs"',
      '  bin_dir = "/usr/lib/cni"',
      '  conf_dir = "/var/lib/k8ts/agent/etc/cni/net.d"',
      '  config_path = "/var/lib/k8ts/agent/etc/containerd/certs.d"',
      '[plugins."io.containerd.grpc.v1.cri".registry.configs."mirror.example:8443".auth]',
      '  password = "p\\"w"',
      '  SystemdCgroup = false',
    ])
      assert.ok(toml.split('\n').includes(line), `missing line: ${line}\n${toml}`);
  });
});

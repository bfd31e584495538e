import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configuredSnapshotter } from './image.js';

test("image import unpacks into the snapshotter the agent configured containerd's CRI plugin with", () => {
  const toml = '[plugins."io.containerd.grpc.v1.cri".containerd]\n  snapshotter = "native"\n';
  assert.equal(configuredSnapshotter(toml), 'native');
  assert.equal(configuredSnapshotter('[grpc]\n  address = "/x"\n'), undefined);
});

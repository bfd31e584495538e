// What pods use, for ranking them under pressure: from the simulated runtime's usage model, or
// from the CRI's container stats (working set; writable layer for ephemeral storage).
import type { CriClient } from '../cri/client.js';
import type { FakeRuntime } from '../fake/runtime.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from '../kuberuntime/labels.js';
import type { PodUsage } from './rank.js';

export function fakeRuntimeUsage(
  runtime: FakeRuntime,
  nodeName: string,
): () => Promise<ReadonlyMap<string, PodUsage>> {
  return () =>
    Promise.resolve(
      new Map(
        runtime.usage(nodeName).map((p) => [
          p.uid,
          {
            uid: p.uid,
            containers: p.containers.map((c) => ({ name: c.name, memoryBytes: c.workingSetBytes })),
          },
        ]),
      ),
    );
}

export function criPodUsage(client: CriClient): () => Promise<ReadonlyMap<string, PodUsage>> {
  return async () => {
    const out = new Map<string, PodUsage>();
    for (const s of await client.listContainerStats()) {
      const uid = s.labels[LABEL_POD_UID];
      if (!uid) continue;
      let pod = out.get(uid);
      if (!pod) out.set(uid, (pod = { uid, containers: [] }));
      const name = s.labels[LABEL_CONTAINER_NAME] ?? s.metadata.name;
      const usage = {
        name,
        memoryBytes: s.memory?.workingSetBytes,
        ephemeralBytes: s.writableLayer?.usedBytes,
      };
      // An exited instance of a restarted container reports too: the one using more counts.
      const i = pod.containers.findIndex((c) => c.name === name);
      if (i < 0) pod.containers.push(usage);
      else if ((usage.memoryBytes ?? 0) > (pod.containers[i]!.memoryBytes ?? 0)) pod.containers[i] = usage;
    }
    return out;
  };
}

// Mirror pods (pkg/kubelet/pod/mirror_client.go): the API server's view of this node's static
// pods. Each static pod gets a mirror of the same name with its hash in kubernetes.io/config.mirror;
// a mirror that is missing (deleted through the API) is created again, one of an older version or
// being deleted is removed and replaced, and one whose static pod is gone is deleted. Deleting a
// mirror never stops the static pod: only its manifest does that.
import { StatusError } from '../../api/errors.js';
import type { Pod } from '../../api/generated/types.js';
import { resourcePath, type RestClient } from '../../client/rest.js';
import { PODS } from '../../client/typed-refs.js';
import { createLogger, type Logger } from '../../util/log.js';
import { isMirrorOf, mirrorPodFor } from './static-pod.js';

export interface MirrorPodsOptions {
  client: RestClient;
  nodeName: string;
  /** The node's UID once it is registered (the mirrors' owner). */
  nodeUid(): string | undefined;
  /** The static pods this node runs now. */
  staticPods(): readonly Pod[];
  /** The mirror pods of this node the API server has (from the pod informer). */
  mirrorPods(): readonly Pod[];
  /** Retry a failed pass after this long (default 1 s). */
  retryMs?: number;
  log?: Logger;
}

const keyOf = (p: Pod): string => `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;

export class MirrorPods {
  private readonly log: Logger;
  private running: Promise<void> | undefined;
  private again = false;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: MirrorPodsOptions) {
    this.log = opts.log ?? createLogger('agent.mirror-pods');
  }

  /** Brings the mirrors in line soon (one pass at a time; a request during a pass runs another). */
  trigger(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        let ok = false;
        try {
          ok = await this.pass();
        } catch (err) {
          this.log.error('syncing mirror pods failed', { node: this.opts.nodeName, error: err });
        }
        if (!ok && !this.stopped && !this.retry) {
          this.retry = setTimeout(() => {
            this.retry = undefined;
            this.trigger();
          }, this.opts.retryMs ?? 1000);
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.running;
  }

  /** One reconciliation; false when something must be tried again. */
  private async pass(): Promise<boolean> {
    const nodeUid = this.opts.nodeUid();
    let ok = true;
    const mirrors = new Map(this.opts.mirrorPods().map((m) => [keyOf(m), m]));
    const wanted = new Set<string>();
    for (const pod of this.opts.staticPods()) {
      const key = keyOf(pod);
      wanted.add(key);
      const mirror = mirrors.get(key);
      if (mirror && isMirrorOf(mirror, pod)) continue;
      if (mirror) {
        // An older version, or one being deleted: it goes first, the new one follows its deletion.
        ok = (await this.deleteMirror(mirror, 'replacing the mirror of a changed static pod')) && ok;
        continue;
      }
      if (nodeUid === undefined) {
        ok = false;
        continue;
      }
      ok = (await this.createMirror(pod, nodeUid)) && ok;
    }
    for (const [key, mirror] of mirrors)
      if (!wanted.has(key)) ok = (await this.deleteMirror(mirror, 'its static pod is gone')) && ok;
    return ok;
  }

  private async createMirror(pod: Pod, nodeUid: string): Promise<boolean> {
    try {
      await this.opts.client.create<Pod>(
        PODS,
        pod.metadata.namespace ?? 'default',
        mirrorPodFor(pod, { name: this.opts.nodeName, uid: nodeUid }),
      );
      this.log.info('created mirror pod', { pod: keyOf(pod), hash: pod.metadata.uid });
      return true;
    } catch (err) {
      this.log.warn('creating mirror pod failed', { pod: keyOf(pod), error: err });
      // AlreadyExists: an earlier mirror on its way out, or an API pod of that name; the deletion
      // of that pod brings another pass, so there is nothing to retry until then.
      return err instanceof StatusError && err.code === 409;
    }
  }

  private async deleteMirror(mirror: Pod, why: string): Promise<boolean> {
    try {
      await this.opts.client.request(
        'DELETE',
        resourcePath(PODS, mirror.metadata.namespace ?? 'default', mirror.metadata.name ?? ''),
        {
          body: {
            kind: 'DeleteOptions',
            apiVersion: 'v1',
            gracePeriodSeconds: 0,
            preconditions: { uid: mirror.metadata.uid },
          },
        },
      );
      this.log.info('deleted mirror pod', { pod: keyOf(mirror), reason: why });
      return true;
    } catch (err) {
      if (err instanceof StatusError && (err.code === 404 || err.code === 409)) return true;
      this.log.warn('deleting mirror pod failed', { pod: keyOf(mirror), error: err });
      return false;
    }
  }
}

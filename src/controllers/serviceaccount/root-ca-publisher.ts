// The root CA publisher (upstream's pkg/controller/certificates/rootcacertpublisher): a
// `kube-root-ca.crt` ConfigMap in every namespace whose `ca.crt` is the cluster CA given to the
// controller, put back when deleted and rewritten when changed. Keys are namespace names.
import type { ConfigMap } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { DeletedFinalStateUnknown, Lister, ResourceEventHandler } from '../../client/informer.js';
import { deletedObject } from '../../client/informer.js';
import type { Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';
import { isAlreadyExists, isNamespaceTerminating, isNotFound } from '../common/errors.js';
import { isActiveNamespace, type NamespaceObj } from './serviceaccounts.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
/** The annotation text clients see on the ConfigMap (the same words as upstream, which tools match). */
export const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. ' +
  'No other usage is guaranteed across distributions of Kubernetes clusters.';

const syncsTotal = metrics.counter(
  'k8ts_root_ca_cert_publisher_writes_total',
  'ConfigMap writes by the root CA publisher, by verb.',
);

export type ConfigMapObj = ConfigMap & KubeObject;

export interface ConfigMapClient {
  create(namespace: string, cm: ConfigMapObj): Promise<void>;
  update(cm: ConfigMapObj): Promise<void>;
}

export interface RootCaPublisherOptions {
  namespaces: Lister<NamespaceObj>;
  configMaps: Lister<ConfigMapObj>;
  client: ConfigMapClient;
  enqueue: (namespace: string) => void;
  log: Logger;
  /** The CA bundle (PEM) to publish. */
  rootCa: string;
}

function sameData(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a?.[k] === b[k]);
}

export class RootCaPublisher {
  constructor(private readonly o: RootCaPublisherOptions) {}

  namespaceHandlers(): ResourceEventHandler<NamespaceObj> {
    return {
      onAdd: (ns) => this.o.enqueue(ns.metadata.name ?? ''),
      onUpdate: (_old, ns) => this.o.enqueue(ns.metadata.name ?? ''),
    };
  }

  configMapHandlers(): ResourceEventHandler<ConfigMapObj> {
    const on = (cm: KubeObject): void => {
      if (cm.metadata.name === ROOT_CA_CONFIGMAP) this.o.enqueue(cm.metadata.namespace ?? '');
    };
    return {
      onUpdate: (_old, cm) => on(cm),
      onDelete: (v: ConfigMapObj | DeletedFinalStateUnknown<ConfigMapObj>) => on(deletedObject(v)),
    };
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.o.namespaces.get(undefined, namespace);
    if (!ns || !isActiveNamespace(ns)) return;
    const data = { 'ca.crt': this.o.rootCa };
    const cm = this.o.configMaps.get(namespace, ROOT_CA_CONFIGMAP);
    if (!cm) {
      try {
        await this.o.client.create(namespace, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: ROOT_CA_CONFIGMAP,
            namespace,
            annotations: { [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION },
          },
          data,
        });
        syncsTotal.inc({ verb: 'create' });
      } catch (err) {
        // Not retried when the namespace is gone or terminating; an existing one is seen through the watch.
        if (isNotFound(err) || isNamespaceTerminating(err) || isAlreadyExists(err)) return;
        throw err;
      }
      return;
    }
    if (sameData(cm.data, data) && (cm.metadata.annotations?.[DESCRIPTION_ANNOTATION] ?? '') !== '') return;
    const copy = structuredClone(cm);
    copy.data = data;
    copy.metadata.annotations = {
      ...(copy.metadata.annotations ?? {}),
      [DESCRIPTION_ANNOTATION]: ROOT_CA_DESCRIPTION,
    };
    await this.o.client.update(copy);
    syncsTotal.inc({ verb: 'update' });
  }
}

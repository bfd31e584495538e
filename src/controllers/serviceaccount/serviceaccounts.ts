// The ServiceAccount controller (upstream's pkg/controller/serviceaccount, the serviceaccounts
// controller): every active namespace has the ServiceAccounts it should (`default`), recreated
// when deleted. Keys are namespace names.
import type { Namespace, ServiceAccount } from '../../api/generated/types.js';
import type { KubeObject } from '../../api/meta.js';
import type { DeletedFinalStateUnknown, Lister, ResourceEventHandler } from '../../client/informer.js';
import { deletedObject } from '../../client/informer.js';
import type { Logger } from '../../util/log.js';
import { isAlreadyExists, isNamespaceTerminating, isNotFound } from '../common/errors.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';

export type NamespaceObj = Namespace & KubeObject;
export type ServiceAccountObj = ServiceAccount & KubeObject;

export interface ServiceAccountClient {
  create(namespace: string, sa: ServiceAccountObj): Promise<void>;
}

export interface ServiceAccountsControllerOptions {
  namespaces: Lister<NamespaceObj>;
  serviceAccounts: Lister<ServiceAccountObj>;
  client: ServiceAccountClient;
  enqueue: (namespace: string) => void;
  log: Logger;
  /** The accounts every namespace gets (upstream's default: just `default`). */
  accounts?: readonly string[];
}

/** Active: not being deleted (creates there would fail, and the namespace controller would race us). */
export function isActiveNamespace(ns: NamespaceObj): boolean {
  return !ns.metadata.deletionTimestamp && (ns.status?.phase ?? 'Active') === 'Active';
}

export class ServiceAccountsController {
  private readonly accounts: readonly string[];

  constructor(private readonly o: ServiceAccountsControllerOptions) {
    this.accounts = o.accounts ?? [DEFAULT_SERVICE_ACCOUNT];
  }

  namespaceHandlers(): ResourceEventHandler<NamespaceObj> {
    return {
      onAdd: (ns) => this.o.enqueue(ns.metadata.name ?? ''),
      onUpdate: (_old, ns) => this.o.enqueue(ns.metadata.name ?? ''),
    };
  }

  serviceAccountHandlers(): ResourceEventHandler<ServiceAccountObj> {
    return {
      onDelete: (v: ServiceAccountObj | DeletedFinalStateUnknown<ServiceAccountObj>) => {
        const sa = deletedObject(v);
        if (this.accounts.includes(sa.metadata.name ?? '')) this.o.enqueue(sa.metadata.namespace ?? '');
      },
    };
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.o.namespaces.get(undefined, namespace);
    if (!ns || !isActiveNamespace(ns)) return;
    for (const name of this.accounts) {
      if (this.o.serviceAccounts.get(namespace, name)) continue;
      try {
        await this.o.client.create(namespace, {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name, namespace },
        });
        this.o.log.debug('created service account', { namespace, name });
      } catch (err) {
        if (isAlreadyExists(err) || isNamespaceTerminating(err) || isNotFound(err)) continue;
        throw err;
      }
    }
  }
}

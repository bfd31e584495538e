// The built-in admission chain, in upstream's order: NamespaceLifecycle, LimitRanger,
// ServiceAccount, Priority, DefaultStorageClass, StorageObjectInUseProtection, ResourceQuota.
// (DefaultTolerationSeconds is applied by the Pod kind's create strategy, and the namespace
// existence checks by the REST handler.)
import type { AdmissionPlugin } from '../admission.js';
import { ObjectAccess, type AdmissionContext } from './access.js';
import { limitRangerPlugin } from './limitranger.js';
import { namespaceLifecyclePlugin } from './namespace-lifecycle.js';
import { priorityPlugin } from './priority.js';
import { defaultStorageClassPlugin } from './default-storage-class.js';
import { storageObjectInUseProtectionPlugin } from './storage-object-in-use-protection.js';
import { resourceQuotaPlugin } from './resourcequota.js';
import { serviceAccountPlugin, type ServiceAccountPluginOptions } from './serviceaccount.js';

import { csrRequesterAdmission } from './csr-requester.js';
export { ObjectAccess, type AdmissionContext } from './access.js';
export { systemPriorityClasses } from './priority.js';

export interface DefaultAdmissionOptions {
  /** Plugin names to leave out (as --disable-admission-plugins). */
  readonly disable?: readonly string[];
  readonly serviceAccount?: ServiceAccountPluginOptions;
}

export { csrRequesterAdmission };

export function defaultAdmissionPlugins(
  ctx: AdmissionContext,
  opts: DefaultAdmissionOptions = {},
): AdmissionPlugin[] {
  const access = new ObjectAccess(ctx);
  const disabled = new Set(opts.disable ?? []);
  return [
    namespaceLifecyclePlugin(),
    limitRangerPlugin(access),
    serviceAccountPlugin(access, opts.serviceAccount),
    priorityPlugin(access),
    defaultStorageClassPlugin(access),
    storageObjectInUseProtectionPlugin(),
    resourceQuotaPlugin(access),
    csrRequesterAdmission,
  ].filter((p) => !disabled.has(p.name));
}

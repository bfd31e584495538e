// The part of NamespaceLifecycle not already enforced by the REST handler (which refuses content
// in missing or terminating namespaces): the namespaces every cluster needs may not be deleted.
import { forbidden } from '../../api/errors.js';
import type { AdmissionPlugin } from '../admission.js';

export const NAMESPACE_LIFECYCLE_PLUGIN = 'NamespaceLifecycle';
export const IMMORTAL_NAMESPACES: ReadonlySet<string> = new Set(['default', 'kube-system', 'kube-public']);

export function namespaceLifecyclePlugin(
  immortal: ReadonlySet<string> = IMMORTAL_NAMESPACES,
): AdmissionPlugin {
  return {
    name: NAMESPACE_LIFECYCLE_PLUGIN,
    validate(req) {
      if (req.operation !== 'DELETE' || req.resource.group !== '' || req.resource.kind !== 'Namespace')
        return;
      if (immortal.has(req.name))
        throw forbidden({ group: '', resource: 'namespaces' }, req.name, 'this namespace may not be deleted');
    },
  };
}

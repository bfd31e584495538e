// The Priority admission plugin: a new pod's priorityClassName resolves to its priority (and
// preemption policy) from the PriorityClass; a pod without one gets the global default class, or
// priority 0. Only one PriorityClass may be the global default. The built-in system classes are
// ordinary objects, created at start (ensureSystemPriorityClasses).
import { forbidden } from '../../api/errors.js';
import type { KubeObject } from '../../api/meta.js';
import { SYSTEM_PRIORITY_CLASSES } from '../../api/kinds/priority-class.js';
import { child, str, type Obj } from '../../api/kinds/util.js';
import type { AdmissionPlugin, AdmissionRequest } from '../admission.js';
import type { ObjectAccess } from './access.js';

export const PRIORITY_PLUGIN = 'Priority';
const GROUP = 'scheduling.k8s.io';

/** The two classes every cluster has, as the scheduling API group's start-up hook creates them. */
export function systemPriorityClasses(): KubeObject[] {
  const descriptions: Record<string, string> = {
    'system-node-critical': 'Used for system critical pods that must not be moved from their current node.',
    'system-cluster-critical':
      'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  };
  return Object.entries(SYSTEM_PRIORITY_CLASSES).map(([name, value]) => ({
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name },
    value,
    globalDefault: false,
    description: descriptions[name] ?? '',
    preemptionPolicy: 'PreemptLowerPriority',
  }));
}

async function defaultClass(access: ObjectAccess): Promise<KubeObject | undefined> {
  let best: KubeObject | undefined;
  for (const pc of await access.list(GROUP, 'PriorityClass', ''))
    if (pc.globalDefault === true && (!best || Number(pc.value) < Number(best.value))) best = pc;
  return best;
}

function isResource(req: AdmissionRequest, group: string, plural: string): boolean {
  return req.resource.group === group && req.resource.plural === plural && req.subresource === '';
}

export function priorityPlugin(access: ObjectAccess): AdmissionPlugin {
  return {
    name: PRIORITY_PLUGIN,
    async admit(req) {
      if (!isResource(req, '', 'pods') || !req.object) return;
      const podSpec = child(req.object, 'spec');
      if (req.operation === 'UPDATE') {
        // Set at creation; an update that leaves them out keeps them (validation forbids changes).
        const old = (req.oldObject?.spec ?? {}) as Obj;
        if (podSpec.priority === undefined && old.priority !== undefined) podSpec.priority = old.priority;
        if (podSpec.preemptionPolicy === undefined && old.preemptionPolicy !== undefined)
          podSpec.preemptionPolicy = old.preemptionPolicy;
        return;
      }
      if (req.operation !== 'CREATE') return;
      let pc: KubeObject | undefined;
      const className = str(podSpec.priorityClassName);
      if (className === '') {
        pc = await defaultClass(access);
        if (pc) podSpec.priorityClassName = pc.metadata.name;
      } else {
        pc = await access.get(GROUP, 'PriorityClass', '', className);
        if (!pc)
          throw forbidden(
            { group: '', resource: 'pods' },
            req.name,
            `no PriorityClass with name ${className} was found`,
          );
      }
      const priority = pc && typeof pc.value === 'number' ? pc.value : 0;
      if (podSpec.priority !== undefined && podSpec.priority !== null && podSpec.priority !== priority)
        throw forbidden(
          { group: '', resource: 'pods' },
          req.name,
          `the integer value of priority (${JSON.stringify(podSpec.priority)}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
        );
      podSpec.priority = priority;
      const policy = pc ? str(pc.preemptionPolicy) || 'PreemptLowerPriority' : 'PreemptLowerPriority';
      const asked = str(podSpec.preemptionPolicy);
      if (asked !== '' && asked !== policy)
        throw forbidden(
          { group: '', resource: 'pods' },
          req.name,
          `the string value of PreemptionPolicy (${asked}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`,
        );
      podSpec.preemptionPolicy = policy;
    },
    async validate(req) {
      if (!isResource(req, GROUP, 'priorityclasses') || !req.object) return;
      if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return;
      if (req.object.globalDefault !== true) return;
      const existing = await defaultClass(access);
      if (!existing) return;
      if (req.operation === 'CREATE' || existing.metadata.name !== req.object.metadata.name)
        throw forbidden(
          { group: GROUP, resource: 'priorityclasses' },
          req.name,
          `PriorityClass ${existing.metadata.name ?? ''} is already marked as default. Only one default can exist`,
        );
    },
  };
}

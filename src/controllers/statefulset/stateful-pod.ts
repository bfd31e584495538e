// A StatefulSet pod's identity and storage (upstream's stateful_set_utils.go): the name
// `<set>-<ordinal>`, the pod-name and pod-index labels, hostname and subdomain, and one claim per
// volumeClaimTemplate named `<template>-<set>-<ordinal>`.
import type {
  PersistentVolumeClaim,
  Pod,
  PodTemplateSpec,
  StatefulSet,
  Volume,
} from '../../api/generated/types.js';
import { controllerRef } from '../common/pod-control.js';
import { POD_REVISION_LABEL } from './history.js';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata.name ?? ''}-${ordinal}`;
}

/** The ordinal of a pod of this set, or undefined when the name is not `<set>-<n>`. */
export function ordinalOf(set: StatefulSet, pod: Pod): number | undefined {
  const name = pod.metadata.name ?? '';
  const prefix = `${set.metadata.name ?? ''}-`;
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  if (!/^(0|[1-9]\d*)$/.test(rest)) return undefined;
  return Number.parseInt(rest, 10);
}

export function claimName(templateName: string, set: StatefulSet, ordinal: number): string {
  return `${templateName}-${set.metadata.name ?? ''}-${ordinal}`;
}

/** The claims a pod of the set needs. */
export function claimsFor(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  const out: PersistentVolumeClaim[] = [];
  const selectorLabels = set.spec?.selector.matchLabels ?? {};
  const retention = set.spec?.persistentVolumeClaimRetentionPolicy;
  for (const t of set.spec?.volumeClaimTemplates ?? []) {
    const name = t.metadata.name ?? '';
    const pvc: PersistentVolumeClaim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName(name, set, ordinal),
        namespace: set.metadata.namespace,
        labels: { ...(t.metadata.labels ?? {}), ...selectorLabels },
      },
      spec: structuredClone(t.spec ?? {}),
    };
    if (t.metadata.annotations) pvc.metadata.annotations = { ...t.metadata.annotations };
    if (retention?.whenDeleted === 'Delete')
      pvc.metadata.ownerReferences = [{ ...controllerRef(set), controller: false, blockOwnerDeletion: true }];
    out.push(pvc);
  }
  return out;
}

/** Whether the pod carries the identity its ordinal gives it (upstream's identityMatches). */
export function identityMatches(set: StatefulSet, pod: Pod, ordinal: number): boolean {
  const l = pod.metadata.labels ?? {};
  return (
    pod.metadata.name === podName(set, ordinal) &&
    pod.metadata.namespace === set.metadata.namespace &&
    l[POD_NAME_LABEL] === pod.metadata.name &&
    l[POD_INDEX_LABEL] === String(ordinal)
  );
}

/** The pod for ordinal made from a template at a revision (upstream's newVersionedStatefulSetPod). */
export function newStatefulPod(
  set: StatefulSet,
  template: PodTemplateSpec,
  revisionName: string,
  ordinal: number,
): Pod {
  const name = podName(set, ordinal);
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata.namespace,
      labels: {
        ...(template.metadata?.labels ?? {}),
        [POD_NAME_LABEL]: name,
        [POD_INDEX_LABEL]: String(ordinal),
        [POD_REVISION_LABEL]: revisionName,
      },
      ownerReferences: [controllerRef(set)],
    },
    spec: structuredClone(template.spec ?? { containers: [] }),
  };
  if (template.metadata?.annotations) pod.metadata.annotations = { ...template.metadata.annotations };
  const spec = pod.spec!;
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const claims = set.spec?.volumeClaimTemplates ?? [];
  if (claims.length > 0) {
    const byName = new Map<string, Volume>();
    for (const v of spec.volumes ?? []) byName.set(v.name, v);
    for (const t of claims) {
      const vname = t.metadata.name ?? '';
      byName.set(vname, {
        name: vname,
        persistentVolumeClaim: { claimName: claimName(vname, set, ordinal) },
      });
    }
    spec.volumes = [...byName.values()];
  }
  return pod;
}

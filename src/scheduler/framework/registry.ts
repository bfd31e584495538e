// The in-tree plugins by name, the extension points each implements, and upstream's default
// profile (MultiPoint, in order, with score weights).
import type { PluginFactory } from './interfaces.js';
import type { ExtensionPoint } from './runtime.js';
import * as names from '../plugins/names/index.js';
import { newPrioritySort } from '../plugins/prioritysort/index.js';
import { newSchedulingGates } from '../plugins/schedulinggates/index.js';
import { newNodeName } from '../plugins/nodename/index.js';
import { newNodeUnschedulable } from '../plugins/nodeunschedulable/index.js';
import { newTaintToleration } from '../plugins/tainttoleration/index.js';
import { newNodeAffinity } from '../plugins/nodeaffinity/index.js';
import { newNodePorts } from '../plugins/nodeports/index.js';
import { newNodeResourcesFit } from '../plugins/noderesources/fit.js';
import { newBalancedAllocation } from '../plugins/noderesources/balanced.js';
import { newImageLocality } from '../plugins/imagelocality/index.js';
import { newInterPodAffinity } from '../plugins/interpodaffinity/index.js';
import { newPodTopologySpread } from '../plugins/podtopologyspread/index.js';
import { newVolumeBinding } from '../plugins/volumebinding/index.js';
import { newDefaultPreemption } from '../plugins/defaultpreemption/index.js';
import { newDefaultBinder } from '../plugins/defaultbinder/index.js';

export interface RegistryEntry {
  factory: PluginFactory;
  points: readonly ExtensionPoint[];
}

export function inTreeRegistry(): Map<string, RegistryEntry> {
  return new Map<string, RegistryEntry>([
    [names.SchedulingGates, { factory: newSchedulingGates, points: ['preEnqueue'] }],
    [names.PrioritySort, { factory: newPrioritySort, points: ['queueSort'] }],
    [names.NodeUnschedulable, { factory: newNodeUnschedulable, points: ['filter'] }],
    [names.NodeName, { factory: newNodeName, points: ['filter'] }],
    [names.TaintToleration, { factory: newTaintToleration, points: ['filter', 'preScore', 'score'] }],
    [names.NodeAffinity, { factory: newNodeAffinity, points: ['preFilter', 'filter', 'preScore', 'score'] }],
    [names.NodePorts, { factory: newNodePorts, points: ['preFilter', 'filter'] }],
    [names.NodeResourcesFit, { factory: newNodeResourcesFit, points: ['preFilter', 'filter', 'score'] }],
    [
      names.VolumeBinding,
      { factory: newVolumeBinding, points: ['preFilter', 'filter', 'reserve', 'preBind'] },
    ],
    [
      names.PodTopologySpread,
      { factory: newPodTopologySpread, points: ['preFilter', 'filter', 'preScore', 'score'] },
    ],
    [
      names.InterPodAffinity,
      { factory: newInterPodAffinity, points: ['preFilter', 'filter', 'preScore', 'score'] },
    ],
    [names.DefaultPreemption, { factory: newDefaultPreemption, points: ['postFilter'] }],
    [
      names.NodeResourcesBalancedAllocation,
      { factory: newBalancedAllocation, points: ['preScore', 'score'] },
    ],
    [names.ImageLocality, { factory: newImageLocality, points: ['score'] }],
    [names.DefaultBinder, { factory: newDefaultBinder, points: ['bind'] }],
  ]);
}

/** upstream's default MultiPoint plugins for kubescheduler.config.k8s.io/v1, in order. */
export const DEFAULT_MULTIPOINT: ReadonlyArray<{ name: string; weight?: number }> = [
  { name: names.SchedulingGates },
  { name: names.PrioritySort },
  { name: names.NodeUnschedulable },
  { name: names.NodeName },
  { name: names.TaintToleration, weight: 3 },
  { name: names.NodeAffinity, weight: 2 },
  { name: names.NodePorts },
  { name: names.NodeResourcesFit, weight: 1 },
  { name: names.VolumeBinding },
  { name: names.PodTopologySpread, weight: 2 },
  { name: names.InterPodAffinity, weight: 2 },
  { name: names.DefaultPreemption },
  { name: names.NodeResourcesBalancedAllocation, weight: 1 },
  { name: names.ImageLocality, weight: 1 },
  { name: names.DefaultBinder },
];

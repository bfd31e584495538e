// The plugin names, as upstream spells them (they appear in configuration files and metrics).
export const PrioritySort = 'PrioritySort';
export const SchedulingGates = 'SchedulingGates';
export const NodeName = 'NodeName';
export const NodeUnschedulable = 'NodeUnschedulable';
export const TaintToleration = 'TaintToleration';
export const NodeAffinity = 'NodeAffinity';
export const NodePorts = 'NodePorts';
export const NodeResourcesFit = 'NodeResourcesFit';
export const NodeResourcesBalancedAllocation = 'NodeResourcesBalancedAllocation';
export const ImageLocality = 'ImageLocality';
export const InterPodAffinity = 'InterPodAffinity';
export const PodTopologySpread = 'PodTopologySpread';
export const VolumeBinding = 'VolumeBinding';
export const DefaultPreemption = 'DefaultPreemption';
export const DefaultBinder = 'DefaultBinder';

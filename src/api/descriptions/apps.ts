// Our own descriptions for apps/v1 types.
const A = 'io.k8s.api.apps.v1';

export const appsDescriptions: Readonly<Record<string, string>> = {
  [`${A}.Deployment.spec`]: 'The pods the deployment should run and how to roll out changes to them.',
  [`${A}.Deployment.status`]: 'Observed progress of the deployment: replica counts and conditions.',
  [`${A}.DeploymentSpec`]: 'The desired state of a deployment.',
  [`${A}.DeploymentSpec.minReadySeconds`]:
    'Seconds a new pod must stay ready, without crashing, before it counts as available. Defaults to 0.',
  [`${A}.DeploymentSpec.paused`]: 'While true, changes to the template do not trigger a rollout.',
  [`${A}.DeploymentSpec.progressDeadlineSeconds`]:
    'Seconds the deployment may go without progress before it is reported as failed (condition Progressing=False). Defaults to 600.',
  [`${A}.DeploymentSpec.replicas`]: 'How many pods should run. Defaults to 1.',
  [`${A}.DeploymentSpec.revisionHistoryLimit`]:
    'How many old ReplicaSets to keep for rollback. Defaults to 10.',
  [`${A}.DeploymentSpec.selector`]:
    "Selects the pods this deployment manages; must match the template's labels and cannot change after creation.",
  [`${A}.DeploymentSpec.strategy`]: 'How old pods are replaced by new ones.',
  [`${A}.DeploymentSpec.template`]: 'The pods to create. Only restartPolicy Always is allowed.',
  [`${A}.DeploymentStrategy`]: 'How a deployment replaces its pods.',
  [`${A}.DeploymentStrategy.rollingUpdate`]:
    'Tuning of a rolling update; only allowed when type is RollingUpdate.',
  [`${A}.DeploymentStrategy.type`]:
    'RollingUpdate (default) replaces pods gradually; Recreate deletes all old pods before creating new ones.',
  [`${A}.RollingUpdateDeployment`]:
    'Limits on how many pods may be missing or extra during a rolling update.',
  [`${A}.RollingUpdateDeployment.maxSurge`]:
    'How many pods may exist above the desired count during the update: a number or a percentage (rounded up). Defaults to 25%.',
  [`${A}.RollingUpdateDeployment.maxUnavailable`]:
    'How many pods may be unavailable during the update: a number or a percentage (rounded down). Defaults to 25%. Cannot be 0 when maxSurge is 0.',
  [`${A}.DeploymentStatus`]: 'The observed state of a deployment.',
  [`${A}.DeploymentStatus.availableReplicas`]: 'Pods that have been ready for at least minReadySeconds.',
  [`${A}.DeploymentStatus.collisionCount`]:
    'Used to build a unique name for the newest ReplicaSet when a hash collides.',
  [`${A}.DeploymentStatus.conditions`]: 'Conditions such as Available and Progressing.',
  [`${A}.DeploymentStatus.observedGeneration`]:
    'The generation of the deployment that the controller last acted on.',
  [`${A}.DeploymentStatus.readyReplicas`]: 'Pods whose Ready condition is true.',
  [`${A}.DeploymentStatus.replicas`]: 'Pods owned by the deployment, whether up to date or not.',
  [`${A}.DeploymentStatus.terminatingReplicas`]: 'Pods that are being terminated.',
  [`${A}.DeploymentStatus.unavailableReplicas`]:
    'Pods still needed for the deployment to be fully available.',
  [`${A}.DeploymentStatus.updatedReplicas`]: 'Pods that run the current template.',
};

// The pod failure policy (upstream's matchPodFailurePolicy): the first rule matching a failed pod
// decides whether the failure fails the Job at once (FailJob), is not counted (Ignore), or counts
// against the backoff limit (Count, and FailIndex, which without per-index limits counts too).
import type { JobSpec, Pod, PodFailurePolicyRule } from '../../api/generated/types.js';

export interface PolicyMatch {
  action: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';
  /** For FailJob: the message of the FailureTarget condition. */
  message: string;
}

function exitCodeMatch(
  rule: PodFailurePolicyRule,
  pod: Pod,
): { container: string; code: number } | undefined {
  const req = rule.onExitCodes;
  if (!req) return undefined;
  const values = new Set(req.values);
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of statuses) {
    if (req.containerName && req.containerName !== s.name) continue;
    const code = s.state?.terminated?.exitCode;
    if (code === undefined || code === 0) continue;
    const hit =
      req.operator === 'In' ? values.has(code) : req.operator === 'NotIn' ? !values.has(code) : false;
    if (hit) return { container: s.name, code };
  }
  return undefined;
}

function conditionMatch(rule: PodFailurePolicyRule, pod: Pod): string | undefined {
  for (const p of rule.onPodConditions ?? []) {
    const want = p.status ?? 'True';
    const c = pod.status?.conditions?.find((x) => x.type === p.type);
    if (c && c.status === want) return p.type;
  }
  return undefined;
}

export function matchPodFailurePolicy(spec: JobSpec | undefined, pod: Pod): PolicyMatch | undefined {
  const rules = spec?.podFailurePolicy?.rules ?? [];
  const podName = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    const action = rule.action as PolicyMatch['action'];
    if (!['FailJob', 'Ignore', 'Count', 'FailIndex'].includes(action)) continue;
    const ec = exitCodeMatch(rule, pod);
    if (ec)
      return {
        action,
        message: `Container ${ec.container} for pod ${podName} failed with exit code ${ec.code} matching ${action} rule at index ${i}`,
      };
    const cond = conditionMatch(rule, pod);
    if (cond)
      return {
        action,
        message: `Pod ${podName} has condition ${cond} matching ${action} rule at index ${i}`,
      };
  }
  return undefined;
}

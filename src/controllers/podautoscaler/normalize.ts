// From a metric's recommendation to the replica count the autoscaler sets (upstream's
// normalizeDesiredReplicas and normalizeDesiredReplicasWithBehaviors): stabilization over the
// recent recommendations, then the scale rate limits — the fixed 2×/4-pod scale-up limit without
// spec.behavior, the Pods/Percent policies per period with it — and min/max replicas. Each result
// carries the reason and message of the AbleToScale and ScalingLimited conditions it implies.
import type { HPAScalingRules, HorizontalPodAutoscalerBehavior } from '../../api/generated/types.js';

/** Upstream's --horizontal-pod-autoscaler-downscale-stabilization default. */
export const DEFAULT_DOWNSCALE_STABILIZATION_MS = 5 * 60_000;
const SCALE_UP_LIMIT_FACTOR = 2;
const SCALE_UP_LIMIT_MINIMUM = 4;

interface Recommendation {
  at: number;
  replicas: number;
}

interface ScaleEvent {
  at: number;
  change: number;
  outdated: boolean;
}

/** What the controller remembers about one autoscaler between syncs. */
export class ScalingHistory {
  recommendations: Recommendation[] = [];
  scaleUpEvents: ScaleEvent[] = [];
  scaleDownEvents: ScaleEvent[] = [];
}

export interface ConditionOutcome {
  reason: string;
  message: string;
}

export interface Normalized {
  replicas: number;
  /** AbleToScale (status True) reason and message. */
  ableToScale: ConditionOutcome;
  /** ScalingLimited: status True when the count was clamped. */
  limited: ConditionOutcome & { status: 'True' | 'False' };
}

export interface NormalizeArgs {
  currentReplicas: number;
  desiredReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  behavior: HorizontalPodAutoscalerBehavior | undefined;
  now: number;
  downscaleStabilizationMs?: number;
}

const READY_FOR_NEW_SCALE: ConditionOutcome = {
  reason: 'ReadyForNewScale',
  message: 'recommended size matches current size',
};
const SCALE_DOWN_STABILIZED: ConditionOutcome = {
  reason: 'ScaleDownStabilized',
  message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
};
const SCALE_UP_STABILIZED: ConditionOutcome = {
  reason: 'ScaleUpStabilized',
  message: 'recent recommendations were lower than current one, applying the lowest recent recommendation',
};
const WITHIN_RANGE: ConditionOutcome = {
  reason: 'DesiredWithinRange',
  message: 'the desired count is within the acceptable range',
};
const SCALE_UP_LIMIT: ConditionOutcome = {
  reason: 'ScaleUpLimit',
  message: 'the desired replica count is increasing faster than the maximum scale rate',
};
const SCALE_DOWN_LIMIT: ConditionOutcome = {
  reason: 'ScaleDownLimit',
  message: 'the desired replica count is decreasing faster than the maximum scale rate',
};
const TOO_MANY: ConditionOutcome = {
  reason: 'TooManyReplicas',
  message: 'the desired replica count is more than the maximum replica count',
};
const TOO_FEW: ConditionOutcome = {
  reason: 'TooFewReplicas',
  message: 'the desired replica count is less than the minimum replica count',
};

function limited(replicas: number, wanted: number, o: ConditionOutcome): Normalized['limited'] {
  return { ...o, status: replicas === wanted ? 'False' : 'True' };
}

/** Without spec.behavior: the highest recommendation of the downscale window, then 2×/4-pod and min/max. */
function normalizeWithoutBehavior(h: ScalingHistory, a: NormalizeArgs): Normalized {
  const windowMs = a.downscaleStabilizationMs ?? DEFAULT_DOWNSCALE_STABILIZATION_MS;
  const cutoff = a.now - windowMs;
  let stabilized = a.desiredReplicas;
  let oldIndex = -1;
  h.recommendations.forEach((r, i) => {
    if (r.at < cutoff) oldIndex = i;
    else if (r.replicas > stabilized) stabilized = r.replicas;
  });
  const rec = { at: a.now, replicas: a.desiredReplicas };
  if (oldIndex >= 0) h.recommendations[oldIndex] = rec;
  else h.recommendations.push(rec);
  const ableToScale = stabilized !== a.desiredReplicas ? SCALE_DOWN_STABILIZED : READY_FOR_NEW_SCALE;

  const scaleUpLimit = Math.max(SCALE_UP_LIMIT_FACTOR * a.currentReplicas, SCALE_UP_LIMIT_MINIMUM);
  let maxAllowed: number;
  let why: ConditionOutcome;
  if (a.maxReplicas > scaleUpLimit) {
    maxAllowed = scaleUpLimit;
    why = SCALE_UP_LIMIT;
  } else {
    maxAllowed = a.maxReplicas;
    why = TOO_MANY;
  }
  let replicas = stabilized;
  let outcome = WITHIN_RANGE;
  if (stabilized < a.minReplicas) {
    replicas = a.minReplicas;
    outcome = TOO_FEW;
  } else if (stabilized > maxAllowed) {
    replicas = maxAllowed;
    outcome = why;
  }
  return { replicas, ableToScale, limited: limited(replicas, stabilized, outcome) };
}

function changeInPeriod(events: readonly ScaleEvent[], periodSeconds: number, now: number): number {
  const cutoff = now - periodSeconds * 1000;
  let sum = 0;
  for (const e of events) if (e.at > cutoff && !e.outdated) sum += e.change;
  return sum;
}

/** The most replicas the scale-up policies allow now (upstream's calculateScaleUpLimitWithScalingRules). */
export function scaleUpLimit(
  h: ScalingHistory,
  current: number,
  rules: HPAScalingRules,
  now: number,
): number {
  const select = rules.selectPolicy ?? 'Max';
  if (select === 'Disabled') return current;
  let result = select === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const p of rules.policies ?? []) {
    const start =
      current -
      changeInPeriod(h.scaleUpEvents, p.periodSeconds, now) +
      changeInPeriod(h.scaleDownEvents, p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = select === 'Min' ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** The fewest replicas the scale-down policies allow now (upstream's calculateScaleDownLimitWithBehaviors). */
export function scaleDownLimit(
  h: ScalingHistory,
  current: number,
  rules: HPAScalingRules,
  now: number,
): number {
  const select = rules.selectPolicy ?? 'Max';
  if (select === 'Disabled') return current;
  let result = select === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const p of rules.policies ?? []) {
    const start =
      current -
      changeInPeriod(h.scaleUpEvents, p.periodSeconds, now) +
      changeInPeriod(h.scaleDownEvents, p.periodSeconds, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = select === 'Min' ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** The rules upstream defaults when behavior is set but a direction is not (as the API server defaults them). */
export function defaultedRules(
  rules: HPAScalingRules | undefined,
  up: boolean,
  downWindowS: number,
): HPAScalingRules {
  return {
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? (up ? 0 : downWindowS),
    selectPolicy: rules?.selectPolicy ?? 'Max',
    policies:
      rules?.policies ??
      (up
        ? [
            { type: 'Pods', value: 4, periodSeconds: 15 },
            { type: 'Percent', value: 100, periodSeconds: 15 },
          ]
        : [{ type: 'Percent', value: 100, periodSeconds: 15 }]),
  };
}

function normalizeWithBehavior(
  h: ScalingHistory,
  a: NormalizeArgs,
  behavior: HorizontalPodAutoscalerBehavior,
): Normalized {
  const downWindowS = Math.round((a.downscaleStabilizationMs ?? DEFAULT_DOWNSCALE_STABILIZATION_MS) / 1000);
  const up = defaultedRules(behavior.scaleUp, true, downWindowS);
  const down = defaultedRules(behavior.scaleDown, false, downWindowS);
  const upWindowMs = (up.stabilizationWindowSeconds ?? 0) * 1000;
  const downWindowMs = (down.stabilizationWindowSeconds ?? 0) * 1000;
  const obsolete = a.now - Math.max(upWindowMs, downWindowMs);
  let upRec = a.desiredReplicas;
  let downRec = a.desiredReplicas;
  let oldIndex = -1;
  h.recommendations.forEach((r, i) => {
    if (r.at > a.now - upWindowMs) upRec = Math.min(upRec, r.replicas);
    if (r.at > a.now - downWindowMs) downRec = Math.max(downRec, r.replicas);
    if (r.at < obsolete) oldIndex = i;
  });
  let stabilized = a.currentReplicas;
  if (stabilized < upRec) stabilized = upRec;
  if (stabilized > downRec) stabilized = downRec;
  const rec = { at: a.now, replicas: a.desiredReplicas };
  if (oldIndex >= 0) h.recommendations[oldIndex] = rec;
  else h.recommendations.push(rec);
  let ableToScale = READY_FOR_NEW_SCALE;
  if (stabilized !== a.desiredReplicas)
    ableToScale = a.desiredReplicas >= a.currentReplicas ? SCALE_UP_STABILIZED : SCALE_DOWN_STABILIZED;

  let replicas = stabilized;
  let outcome = WITHIN_RANGE;
  if (stabilized > a.currentReplicas) {
    const limit = Math.max(scaleUpLimit(h, a.currentReplicas, up, a.now), a.currentReplicas);
    let maxAllowed = a.maxReplicas;
    let why = TOO_MANY;
    if (maxAllowed > limit) {
      maxAllowed = limit;
      why = SCALE_UP_LIMIT;
    }
    if (stabilized > maxAllowed) {
      replicas = maxAllowed;
      outcome = why;
    }
  } else if (stabilized < a.currentReplicas) {
    const limit = Math.min(scaleDownLimit(h, a.currentReplicas, down, a.now), a.currentReplicas);
    let minAllowed = a.minReplicas;
    let why = TOO_FEW;
    if (minAllowed < limit) {
      minAllowed = limit;
      why = SCALE_DOWN_LIMIT;
    }
    if (stabilized < minAllowed) {
      replicas = minAllowed;
      outcome = why;
    }
  }
  return { replicas, ableToScale, limited: limited(replicas, stabilized, outcome) };
}

export function normalizeDesiredReplicas(h: ScalingHistory, a: NormalizeArgs): Normalized {
  return a.behavior ? normalizeWithBehavior(h, a, a.behavior) : normalizeWithoutBehavior(h, a);
}

function longestPeriodMs(rules: HPAScalingRules): number {
  let longest = 0;
  for (const p of rules.policies ?? []) longest = Math.max(longest, p.periodSeconds * 1000);
  return longest;
}

/** Records a rescale for the rate policies (only autoscalers with behavior keep them, as upstream). */
export function recordScaleEvent(
  h: ScalingHistory,
  behavior: HorizontalPodAutoscalerBehavior | undefined,
  prev: number,
  next: number,
  now: number,
): void {
  if (!behavior || prev === next) return;
  const up = next > prev;
  const rules = defaultedRules(up ? behavior.scaleUp : behavior.scaleDown, up, 300);
  const events = up ? h.scaleUpEvents : h.scaleDownEvents;
  const cutoff = now - longestPeriodMs(rules);
  let reuse = -1;
  events.forEach((e, i) => {
    if (e.at < cutoff) e.outdated = true;
    if (e.outdated && reuse < 0) reuse = i;
  });
  const ev = { at: now, change: Math.abs(next - prev), outdated: false };
  if (reuse >= 0) events[reuse] = ev;
  else events.push(ev);
}

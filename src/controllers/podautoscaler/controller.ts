// The horizontal pod autoscaler (upstream pkg/controller/podautoscaler): every sync period, each
// HorizontalPodAutoscaler reads its target's scale subresource, computes a replica count from each
// resource metric (the pods' usage from the resource metrics API against their requests or an
// average value), takes the largest, stabilizes and rate-limits it, writes it to the scale
// subresource, and reports what it saw in status (current and desired replicas, current metrics,
// AbleToScale / ScalingActive / ScalingLimited) and in events.
import type {
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerCondition,
  MetricSpec,
  MetricStatus,
  MetricValueStatus,
  Pod,
} from '../../api/generated/types.js';
import {
  formatQuantity,
  quantityFromMilli,
  quantityMilliValue,
  tryParseQuantity,
} from '../../api/quantity.js';
import type { EventRecorder } from '../../client/events.js';
import {
  metaNamespaceKey,
  splitMetaNamespaceKey,
  type Lister,
  type SharedInformer,
} from '../../client/informer.js';
import { labelSelectorMatcher } from '../../client/labels.js';
import type { Logger } from '../../util/log.js';
import { formatTime, realClock, type Clock } from '../common/clock.js';
import { errText, isConflict, isNotFound } from '../common/errors.js';
import { queueRunner, type QueueRunner } from '../common/runner.js';
import { podUsage, type ResourceMetricsSource } from './metrics.js';
import { normalizeDesiredReplicas, recordScaleEvent, ScalingHistory } from './normalize.js';
import {
  resourceAverageValueReplicas,
  resourceUtilizationReplicas,
  type CalculatorOptions,
} from './replica-calculator.js';
import type { Scale, ScaleClient } from '../common/scale-client.js';

/** Upstream's --horizontal-pod-autoscaler-sync-period default. */
export const DEFAULT_SYNC_PERIOD_MS = 15_000;

export interface HpaControllerOptions {
  hpas: SharedInformer<HorizontalPodAutoscaler>;
  pods: Lister<Pod>;
  scales: ScaleClient;
  metrics: ResourceMetricsSource;
  updateStatus(hpa: HorizontalPodAutoscaler): Promise<HorizontalPodAutoscaler>;
  recorder: EventRecorder;
  log: Logger;
  clock?: Clock;
  syncPeriodMs?: number;
  /** Scale-down stabilization for autoscalers without behavior (default 5 min). */
  downscaleStabilizationMs?: number;
  tolerance?: number;
  cpuInitializationPeriodMs?: number;
  initialReadinessDelayMs?: number;
}

type ConditionType = 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';

class MetricError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

interface MetricProposal {
  replicas: number;
  metricName: string;
  status: MetricStatus;
}

export class HorizontalPodAutoscalerController {
  private readonly runner: QueueRunner;
  private readonly clock: Clock;
  private readonly syncPeriodMs: number;
  private readonly history = new Map<string, ScalingHistory>();
  private stopped = false;

  constructor(private readonly o: HpaControllerOptions) {
    this.clock = o.clock ?? realClock;
    this.syncPeriodMs = o.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;
    this.runner = queueRunner('horizontalpodautoscaling', o.log, (key) => this.sync(key));
  }

  registerHandlers(): void {
    this.o.hpas.addEventHandler({
      onAdd: (h) => this.runner.queue.add(metaNamespaceKey(h)),
      onUpdate: (old, cur) => {
        // Our own status writes come back as updates: only a spec change needs an early sync.
        if (JSON.stringify(old.spec) !== JSON.stringify(cur.spec))
          this.runner.queue.add(metaNamespaceKey(cur));
      },
      onDelete: (h) => {
        const key = 'metadata' in h ? metaNamespaceKey(h) : h.key;
        this.history.delete(key);
      },
    });
  }

  run(workers: number): Promise<void> {
    return this.runner.run(workers);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.runner.stop();
  }

  async sync(key: string): Promise<void> {
    const { namespace, name } = splitMetaNamespaceKey(key);
    const cached = this.o.hpas.get(namespace, name);
    if (!cached) {
      this.history.delete(key);
      return;
    }
    try {
      await this.reconcile(key, structuredClone(cached));
    } catch (err) {
      if (isConflict(err)) throw err;
      if (!isNotFound(err)) this.o.log.info('autoscaler sync failed', { key, err: errText(err) });
    } finally {
      if (!this.stopped) this.runner.queue.addAfter(key, this.syncPeriodMs);
    }
  }

  private setCondition(
    hpa: HorizontalPodAutoscaler,
    type: ConditionType,
    status: 'True' | 'False',
    reason: string,
    message: string,
  ): void {
    const st = (hpa.status ??= { desiredReplicas: 0 });
    const conditions = (st.conditions ??= []);
    const existing = conditions.find((c) => c.type === type);
    const now = formatTime(this.clock.now());
    if (existing) {
      if (existing.status !== status) existing.lastTransitionTime = now;
      existing.status = status;
      existing.reason = reason;
      existing.message = message;
      return;
    }
    const c: HorizontalPodAutoscalerCondition = { type, status, lastTransitionTime: now, reason, message };
    conditions.push(c);
  }

  private setStatus(
    hpa: HorizontalPodAutoscaler,
    currentReplicas: number,
    desiredReplicas: number,
    metrics: MetricStatus[],
    rescaled: boolean,
  ): void {
    const prev = hpa.status;
    hpa.status = {
      currentReplicas,
      desiredReplicas,
      ...(metrics.length > 0 ? { currentMetrics: metrics } : {}),
      ...(rescaled
        ? { lastScaleTime: formatTime(this.clock.now()) }
        : prev?.lastScaleTime
          ? { lastScaleTime: prev.lastScaleTime }
          : {}),
      ...(prev?.conditions ? { conditions: prev.conditions } : {}),
    };
  }

  private async writeStatusIfChanged(original: string, hpa: HorizontalPodAutoscaler): Promise<void> {
    if (JSON.stringify(hpa.status ?? {}) === original) return;
    try {
      await this.o.updateStatus(hpa);
    } catch (err) {
      this.o.recorder.event(hpa, 'Warning', 'FailedUpdateStatus', errText(err));
      throw err;
    }
  }

  private historyFor(key: string): ScalingHistory {
    let h = this.history.get(key);
    if (!h) this.history.set(key, (h = new ScalingHistory()));
    return h;
  }

  private async reconcile(key: string, hpa: HorizontalPodAutoscaler): Promise<void> {
    const original = JSON.stringify(hpa.status ?? {});
    const namespace = hpa.metadata.namespace ?? '';
    const target = hpa.spec.scaleTargetRef;
    const reference = `${target.kind}/${target.name}`;
    let scale: Scale;
    try {
      scale = await this.o.scales.getScale(namespace, target);
    } catch (err) {
      this.setCondition(
        hpa,
        'AbleToScale',
        'False',
        'FailedGetScale',
        `the HPA controller was unable to get the target's current scale: ${errText(err)}`,
      );
      this.o.recorder.event(hpa, 'Warning', 'FailedGetScale', errText(err));
      await this.writeStatusIfChanged(original, hpa);
      throw new Error(`failed to query scale subresource for ${reference}: ${errText(err)}`);
    }
    this.setCondition(
      hpa,
      'AbleToScale',
      'True',
      'SucceededGetScale',
      "the HPA controller was able to get the target's current scale",
    );
    const currentReplicas = scale.spec?.replicas ?? 0;
    const minReplicas = hpa.spec.minReplicas ?? 1;
    const maxReplicas = hpa.spec.maxReplicas;
    let desiredReplicas = 0;
    let rescaleReason = '';
    let metricStatuses: MetricStatus[] = hpa.status?.currentMetrics ?? [];
    let rescale = true;

    if (currentReplicas === 0 && minReplicas !== 0) {
      // Autoscaling is off while the target is scaled to zero by hand.
      desiredReplicas = 0;
      rescale = false;
      this.setCondition(
        hpa,
        'ScalingActive',
        'False',
        'ScalingDisabled',
        'scaling is disabled since the replica count of the target is zero',
      );
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const computed = await this.computeReplicasForMetrics(hpa, scale);
      metricStatuses = computed.statuses;
      if (computed.replicas === -1) {
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, metricStatuses, false);
        await this.writeStatusIfChanged(original, hpa);
        const msg = computed.error ?? 'no metric produced a replica count';
        this.o.recorder.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', msg);
        return;
      }
      let rescaleMetric = '';
      if (computed.replicas > desiredReplicas) {
        desiredReplicas = computed.replicas;
        rescaleMetric = computed.metricName;
      }
      if (desiredReplicas > currentReplicas) rescaleReason = `${rescaleMetric} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      const normalized = normalizeDesiredReplicas(this.historyFor(key), {
        currentReplicas,
        desiredReplicas,
        minReplicas,
        maxReplicas,
        behavior: hpa.spec.behavior,
        now: this.clock.now(),
        downscaleStabilizationMs: this.o.downscaleStabilizationMs,
      });
      this.setCondition(
        hpa,
        'AbleToScale',
        'True',
        normalized.ableToScale.reason,
        normalized.ableToScale.message,
      );
      this.setCondition(
        hpa,
        'ScalingLimited',
        normalized.limited.status,
        normalized.limited.reason,
        normalized.limited.message,
      );
      desiredReplicas = normalized.replicas;
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await this.o.scales.updateScale(namespace, target, {
          ...scale,
          spec: { ...(scale.spec ?? {}), replicas: desiredReplicas },
        });
      } catch (err) {
        this.o.recorder.event(
          hpa,
          'Warning',
          'FailedRescale',
          `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${errText(err)}`,
        );
        this.setCondition(
          hpa,
          'AbleToScale',
          'False',
          'FailedUpdateScale',
          `the HPA controller was unable to update the target scale: ${errText(err)}`,
        );
        this.setStatus(hpa, currentReplicas, hpa.status?.desiredReplicas ?? 0, metricStatuses, false);
        await this.writeStatusIfChanged(original, hpa);
        throw new Error(`failed to rescale ${reference}: ${errText(err)}`);
      }
      this.setCondition(
        hpa,
        'AbleToScale',
        'True',
        'SucceededRescale',
        `the HPA controller was able to update the target scale to ${desiredReplicas}`,
      );
      this.o.recorder.event(
        hpa,
        'Normal',
        'SuccessfulRescale',
        `New size: ${desiredReplicas}; reason: ${rescaleReason}`,
      );
      recordScaleEvent(
        this.historyFor(key),
        hpa.spec.behavior,
        currentReplicas,
        desiredReplicas,
        this.clock.now(),
      );
      this.o.log.info('successful rescale', {
        hpa: key,
        currentReplicas,
        desiredReplicas,
        reason: rescaleReason,
      });
    } else {
      desiredReplicas = currentReplicas;
    }
    this.setStatus(hpa, currentReplicas, desiredReplicas, metricStatuses, rescale);
    await this.writeStatusIfChanged(original, hpa);
  }

  /** The largest replica count any metric asks for; -1 when it cannot be trusted (see upstream). */
  private async computeReplicasForMetrics(
    hpa: HorizontalPodAutoscaler,
    scale: Scale,
  ): Promise<{ replicas: number; metricName: string; statuses: MetricStatus[]; error?: string }> {
    const selectorText = scale.status?.selector ?? '';
    if (selectorText === '') {
      this.o.recorder.event(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      this.setCondition(
        hpa,
        'ScalingActive',
        'False',
        'InvalidSelector',
        "the HPA target's scale is missing a selector",
      );
      return { replicas: -1, metricName: '', statuses: [], error: 'selector is required' };
    }
    let matches: (labels: Readonly<Record<string, string>> | undefined) => boolean;
    try {
      matches = labelSelectorMatcher(selectorText);
    } catch (err) {
      const msg = `couldn't convert selector into a corresponding internal selector object: ${errText(err)}`;
      this.o.recorder.event(hpa, 'Warning', 'InvalidSelector', msg);
      this.setCondition(
        hpa,
        'ScalingActive',
        'False',
        'InvalidSelector',
        "the HPA target's scale has an invalid selector",
      );
      return { replicas: -1, metricName: '', statuses: [], error: msg };
    }
    const namespace = hpa.metadata.namespace ?? '';
    const pods = this.o.pods.list(namespace, (p) => matches(p.metadata.labels));
    const specs = hpa.spec.metrics ?? [];
    // One entry per metric, aligned with spec.metrics (an empty one for a metric that failed).
    const statuses: MetricStatus[] = [];
    let replicas = 0;
    let metricName = '';
    let invalid = 0;
    let firstError: MetricError | undefined;
    for (const spec of specs) {
      try {
        const p = await this.computeReplicasForMetric(hpa, spec, scale, selectorText, pods);
        statuses.push(p.status);
        if (replicas === 0 || p.replicas > replicas) {
          replicas = p.replicas;
          metricName = p.metricName;
        }
      } catch (err) {
        const me =
          err instanceof MetricError ? err : new MetricError(errText(err), 'FailedGetResourceMetric');
        statuses.push({ type: '' });
        if (!firstError) firstError = me;
        invalid++;
        this.o.recorder.event(hpa, 'Warning', me.reason, me.message);
      }
    }
    let error: string | undefined;
    if (firstError)
      error = `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${firstError.message}`;
    if (
      specs.length === 0 ||
      invalid >= specs.length ||
      (invalid > 0 && replicas < (scale.spec?.replicas ?? 0))
    ) {
      if (firstError)
        this.setCondition(
          hpa,
          'ScalingActive',
          'False',
          firstError.reason,
          `the HPA was unable to compute the replica count: ${firstError.message}`,
        );
      return { replicas: -1, metricName: '', statuses, error };
    }
    this.setCondition(
      hpa,
      'ScalingActive',
      'True',
      'ValidMetricFound',
      `the HPA was able to successfully calculate a replica count from ${metricName}`,
    );
    return { replicas, metricName, statuses, error };
  }

  private async computeReplicasForMetric(
    hpa: HorizontalPodAutoscaler,
    spec: MetricSpec,
    scale: Scale,
    selector: string,
    pods: Pod[],
  ): Promise<MetricProposal> {
    const source =
      spec.type === 'Resource' && spec.resource
        ? { ...spec.resource, container: undefined }
        : spec.type === 'ContainerResource' && spec.containerResource
          ? spec.containerResource
          : undefined;
    if (!source) {
      // Only resource metrics have a source here (no custom or external metrics API yet).
      throw new MetricError(
        `unable to get metric for metric source type ${spec.type}: not supported`,
        `FailedGet${spec.type}Metric`,
      );
    }
    const reason = `FailedGet${spec.type}Metric`;
    const { name: resource, target, container } = source;
    const currentReplicas = scale.spec?.replicas ?? 0;
    const what = target.averageValue !== undefined ? 'usage' : 'utilization';
    let samples;
    try {
      samples = await this.o.metrics.podMetrics(hpa.metadata.namespace ?? '', selector);
      if (samples.length === 0) throw new Error('no metrics returned from resource metrics API');
    } catch (err) {
      const cause =
        err instanceof Error && err.message === 'no metrics returned from resource metrics API'
          ? err.message
          : `unable to fetch metrics from resource metrics API: ${errText(err)}`;
      throw new MetricError(
        `failed to get ${resource} ${what}: unable to get metrics for resource ${resource}: ${cause}`,
        reason,
      );
    }
    const usage = podUsage(samples, resource, container);
    const opts: CalculatorOptions = {
      now: this.clock.now(),
      container,
      tolerance: this.o.tolerance,
      cpuInitializationPeriodMs: this.o.cpuInitializationPeriodMs,
      initialReadinessDelayMs: this.o.initialReadinessDelayMs,
    };
    const status = (current: MetricValueStatus): MetricStatus =>
      container === undefined
        ? { type: 'Resource', resource: { name: resource, current } }
        : { type: 'ContainerResource', containerResource: { name: resource, container, current } };
    try {
      if (target.averageValue !== undefined) {
        const q = tryParseQuantity(target.averageValue);
        if (!q) throw new Error(`invalid averageValue ${String(target.averageValue)}`);
        const p = resourceAverageValueReplicas(
          currentReplicas,
          quantityMilliValue(q),
          resource,
          pods,
          usage,
          opts,
        );
        return {
          replicas: p.replicas,
          metricName: `${resource} resource`,
          status: status({ averageValue: formatQuantity(quantityFromMilli(p.averageMilli)) }),
        };
      }
      if (target.averageUtilization === undefined)
        throw new Error(
          'invalid resource metric source: neither an average utilization target nor an average value (usage) target was set',
        );
      const p = resourceUtilizationReplicas(
        currentReplicas,
        target.averageUtilization,
        resource,
        pods,
        usage,
        opts,
      );
      return {
        replicas: p.replicas,
        metricName:
          container === undefined
            ? `${resource} resource utilization (percentage of request)`
            : `${resource} container resource utilization (percentage of request)`,
        status: status({
          averageUtilization: p.utilization,
          averageValue: formatQuantity(quantityFromMilli(p.rawAverageMilli)),
        }),
      };
    } catch (err) {
      throw new MetricError(`failed to get ${resource} ${what}: ${errText(err)}`, reason);
    }
  }
}

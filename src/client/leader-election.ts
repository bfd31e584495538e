// Leader election on a coordination.k8s.io/v1 Lease, as client-go's tools/leaderelection.
//
// Candidates read the Lease and take it when it is free (no holder), released, or expired: the
// holder has not changed the record for leaseDurationSeconds *as measured on the candidate's own
// clock since it last saw the record change*, so clock skew between machines does not matter. Every
// write is an update carrying the resourceVersion read, so two candidates racing for the same Lease
// cannot both win. The leader renews every retryPeriod; if it cannot renew within renewDeadline it
// stops leading (before others may take over, since renewDeadline < leaseDuration). On stop, a
// leader releases the Lease (empty holder) so a successor need not wait for expiry.
import { StatusError } from '../api/errors.js';
import { isPlainObject, type KubeObject } from '../api/meta.js';
import { createLogger, type Logger } from '../util/log.js';
import { metrics } from '../util/metrics.js';
import type { RestClient } from './rest.js';
import { LEASES } from './typed-refs.js';

export interface LeaderElectionRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
    [field: string]: unknown;
  };
}

export interface LeaderCallbacks {
  /** Leadership gained; the signal aborts when it is lost or the elector stops. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Leadership ended (lost or released). Called only after onStartedLeading. */
  onStoppedLeading(): void;
  /** The observed holder changed (including to this candidate). */
  onNewLeader?(identity: string): void;
}

export interface LeaderElectionConfig {
  client: RestClient;
  /** The Lease: namespace/name. */
  namespace: string;
  name: string;
  /** This candidate's identity (unique: hostname plus a random suffix, typically). */
  identity: string;
  /** Default 15 s. */
  leaseDurationMs?: number;
  /** Default 10 s. */
  renewDeadlineMs?: number;
  /** Default 2 s. */
  retryPeriodMs?: number;
  /** Release the Lease on stop (default true). */
  releaseOnCancel?: boolean;
  callbacks: LeaderCallbacks;
  /** Clock (tests). */
  now?: () => number;
}

const JITTER_FACTOR = 1.2;

const leaderStatus = metrics.gauge(
  'leader_election_master_status',
  'Whether this process is the leader (1) or not (0), by lease name.',
);
const slowpathTotal = metrics.counter(
  'leader_election_slowpath_total',
  'Renewals that had to re-read the Lease (the optimistic update failed), by lease name.',
);

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** metav1.MicroTime in RFC 3339 with microseconds, UTC: `2006-01-02T15:04:05.000000Z`. */
export function formatMicroTime(ms: number): string {
  const d = new Date(Math.floor(ms));
  const micros = Math.floor((ms - Math.floor(ms)) * 1000) + d.getUTCMilliseconds() * 1000;
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(micros, 6)}Z`
  );
}

function recordOf(lease: Lease): LeaderElectionRecord {
  const s = isPlainObject(lease.spec) ? lease.spec : {};
  const rec: LeaderElectionRecord = {
    holderIdentity: typeof s.holderIdentity === 'string' ? s.holderIdentity : '',
    leaseDurationSeconds: typeof s.leaseDurationSeconds === 'number' ? s.leaseDurationSeconds : 0,
    leaseTransitions: typeof s.leaseTransitions === 'number' ? s.leaseTransitions : 0,
  };
  if (typeof s.acquireTime === 'string') rec.acquireTime = s.acquireTime;
  if (typeof s.renewTime === 'string') rec.renewTime = s.renewTime;
  return rec;
}

function sameRecord(a: LeaderElectionRecord | undefined, b: LeaderElectionRecord): boolean {
  return (
    a !== undefined &&
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

function withRecord(lease: Lease, rec: LeaderElectionRecord): Lease {
  const spec: NonNullable<Lease['spec']> = { ...(isPlainObject(lease.spec) ? lease.spec : {}) };
  spec.holderIdentity = rec.holderIdentity;
  spec.leaseDurationSeconds = rec.leaseDurationSeconds;
  spec.leaseTransitions = rec.leaseTransitions;
  if (rec.acquireTime) spec.acquireTime = rec.acquireTime;
  if (rec.renewTime) spec.renewTime = rec.renewTime;
  return { ...lease, metadata: { ...lease.metadata }, spec };
}

export class LeaderElector {
  private readonly log: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly now: () => number;
  private readonly stopCtl = new AbortController();
  private readonly sleepers = new Set<() => void>();
  private lease: Lease | undefined;
  private observedRecord: LeaderElectionRecord | undefined;
  private observedTime = 0;
  private reportedLeader = '';
  private leading = false;
  private running: Promise<void> | undefined;
  private leadership: AbortController | undefined;

  constructor(private readonly config: LeaderElectionConfig) {
    this.leaseDurationMs = config.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = config.retryPeriodMs ?? 2_000;
    this.now = config.now ?? Date.now;
    if (this.leaseDurationMs <= this.renewDeadlineMs)
      throw new Error('leaseDuration must be greater than renewDeadline');
    if (this.renewDeadlineMs <= JITTER_FACTOR * this.retryPeriodMs) {
      throw new Error(`renewDeadline must be greater than retryPeriod*${JITTER_FACTOR}`);
    }
    if (this.retryPeriodMs < 1) throw new Error('retryPeriod must be positive');
    if (!config.identity) throw new Error('leader election requires an identity');
    this.log = createLogger('leader-election').child(config.name);
  }

  /** True while this candidate holds the Lease. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last observed ('' if none). */
  getLeader(): string {
    return this.observedRecord?.holderIdentity ?? '';
  }

  /**
   * Campaigns until elected, then renews until leadership is lost or stop() is called. Resolves when
   * done; call again to campaign anew (a new elector is usually simpler).
   */
  run(): Promise<void> {
    if (!this.running) {
      this.running = this.loop().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** Stops campaigning or leading; a leader releases the Lease first (unless releaseOnCancel is false). */
  async stop(): Promise<void> {
    if (!this.stopCtl.signal.aborted) this.stopCtl.abort();
    for (const wake of [...this.sleepers]) wake();
    await this.running;
  }

  private get stopped(): boolean {
    return this.stopCtl.signal.aborted;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.stopped) return resolve();
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private async loop(): Promise<void> {
    try {
      // Campaign.
      while (!this.stopped) {
        if (await this.tryAcquireOrRenew(this.renewDeadlineMs)) break;
        await this.sleep(this.retryPeriodMs * (1 + Math.random() * JITTER_FACTOR));
      }
      if (this.stopped) return;
      this.leading = true;
      leaderStatus.set(1, { name: this.config.name });
      this.log.info('became leader', {
        lease: `${this.config.namespace}/${this.config.name}`,
        identity: this.config.identity,
      });
      const leadership = new AbortController();
      this.leadership = leadership;
      void Promise.resolve()
        .then(() => this.config.callbacks.onStartedLeading(leadership.signal))
        .catch((err: unknown) => this.log.error('onStartedLeading failed', { err: errText(err) }));
      // Renew: every retryPeriod; each round retries until renewDeadline.
      while (!this.stopped) {
        const deadline = this.now() + this.renewDeadlineMs;
        let renewed = false;
        while (!this.stopped) {
          if (await this.tryAcquireOrRenew(Math.max(1, deadline - this.now()))) {
            renewed = true;
            break;
          }
          if (this.now() + this.retryPeriodMs > deadline) break;
          await this.sleep(this.retryPeriodMs);
        }
        if (this.stopped) break;
        if (!renewed) {
          this.log.warn('failed to renew the lease within the deadline, stopping leading', {
            lease: `${this.config.namespace}/${this.config.name}`,
          });
          break;
        }
        await this.sleep(this.retryPeriodMs);
      }
    } finally {
      if (this.leading) {
        this.leading = false;
        leaderStatus.set(0, { name: this.config.name });
        this.leadership?.abort();
        this.leadership = undefined;
        if (this.stopped && this.config.releaseOnCancel !== false) await this.release();
        try {
          this.config.callbacks.onStoppedLeading();
        } catch (err) {
          this.log.error('onStoppedLeading failed', { err: errText(err) });
        }
      }
    }
  }

  private isLeaseValid(now: number): boolean {
    const seconds = this.observedRecord?.leaseDurationSeconds ?? 0;
    return this.observedTime + seconds * 1000 > now;
  }

  private observedHolderIsMe(): boolean {
    return this.observedRecord?.holderIdentity === this.config.identity;
  }

  private observe(lease: Lease, now: number): void {
    const rec = recordOf(lease);
    this.lease = lease;
    if (!sameRecord(this.observedRecord, rec)) {
      this.observedRecord = rec;
      this.observedTime = now;
    }
    if (rec.holderIdentity !== this.reportedLeader) {
      this.reportedLeader = rec.holderIdentity;
      if (rec.holderIdentity !== '') {
        this.log.info('new leader observed', { lease: this.config.name, leader: rec.holderIdentity });
        try {
          this.config.callbacks.onNewLeader?.(rec.holderIdentity);
        } catch (err) {
          this.log.error('onNewLeader failed', { err: errText(err) });
        }
      }
    }
  }

  /** Runs one API call, aborted after timeoutMs or on stop (but see release(), which must not be). */
  private async call<R>(
    timeoutMs: number,
    fn: (signal: AbortSignal) => Promise<R>,
    stoppable = true,
  ): Promise<R> {
    const ctl = new AbortController();
    const timer = setTimeout(
      () => ctl.abort(new Error(`request timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onStop = (): void => ctl.abort(new Error('leader election stopped'));
    if (stoppable) this.stopCtl.signal.addEventListener('abort', onStop, { once: true });
    try {
      return await fn(ctl.signal);
    } finally {
      clearTimeout(timer);
      this.stopCtl.signal.removeEventListener('abort', onStop);
    }
  }

  private desiredRecord(now: number): LeaderElectionRecord {
    const t = formatMicroTime(now);
    return {
      holderIdentity: this.config.identity,
      leaseDurationSeconds: Math.round(this.leaseDurationMs / 1000) || 1,
      acquireTime: t,
      renewTime: t,
      leaseTransitions: 0,
    };
  }

  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const { client, namespace, name } = this.config;
    const now = this.now();
    const desired = this.desiredRecord(now);

    // Fast path: we hold a valid lease; update the copy we have without reading first.
    if (this.lease && this.observedRecord && this.observedHolderIsMe() && this.isLeaseValid(now)) {
      desired.acquireTime = this.observedRecord.acquireTime;
      desired.leaseTransitions = this.observedRecord.leaseTransitions;
      try {
        const updated = await this.call(timeoutMs, (signal) =>
          client.update<Lease>(LEASES, withRecord(this.lease!, desired), undefined, { signal }),
        );
        this.observe(updated, this.now());
        return true;
      } catch (err) {
        if (this.stopped) return false;
        slowpathTotal.inc({ name });
        this.log.info('optimistic lease update failed, re-reading', { err: errText(err) });
      }
    }

    // Slow path: read the lease.
    let lease: Lease;
    try {
      lease = await this.call(timeoutMs, (signal) => client.get<Lease>(LEASES, namespace, name, { signal }));
    } catch (err) {
      if (err instanceof StatusError && err.code === 404) {
        try {
          const fresh: Lease = withRecord(
            { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { namespace, name } },
            desired,
          );
          const created = await this.call(timeoutMs, (signal) =>
            client.create<Lease>(LEASES, namespace, fresh, { signal }),
          );
          this.observe(created, this.now());
          return true;
        } catch (createErr) {
          if (!this.stopped) this.log.info('could not create the lease', { err: errText(createErr) });
          return false;
        }
      }
      if (!this.stopped) this.log.warn('could not read the lease', { err: errText(err) });
      return false;
    }
    this.observe(lease, now);
    const rec = this.observedRecord!;
    if (rec.holderIdentity !== '' && !this.observedHolderIsMe() && this.isLeaseValid(now)) {
      return false; // held by someone else, not expired
    }
    if (this.observedHolderIsMe()) {
      desired.acquireTime = rec.acquireTime;
      desired.leaseTransitions = rec.leaseTransitions;
    } else {
      desired.leaseTransitions = rec.leaseTransitions + 1;
    }
    try {
      const updated = await this.call(timeoutMs, (signal) =>
        client.update<Lease>(LEASES, withRecord(lease, desired), undefined, { signal }),
      );
      this.observe(updated, this.now());
      return true;
    } catch (err) {
      if (!this.stopped) this.log.info('could not update the lease', { err: errText(err) });
      return false;
    }
  }

  /**
   * Gives the lease up: empty holder, 1 s duration, so a successor takes over at once. A renewal
   * cut short by stop() may still have reached the server; on a conflict the lease is re-read and,
   * if it still names this candidate, the release is tried again.
   */
  private async release(): Promise<void> {
    if (!this.lease || !this.observedHolderIsMe()) return;
    const { client, namespace, name } = this.config;
    for (let attempt = 0; attempt < 2; attempt++) {
      const now = formatMicroTime(this.now());
      const rec: LeaderElectionRecord = {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: this.observedRecord?.leaseTransitions ?? 0,
      };
      try {
        const lease = this.lease;
        const updated = await this.call(
          this.renewDeadlineMs,
          (signal) => client.update<Lease>(LEASES, withRecord(lease, rec), undefined, { signal }),
          false,
        );
        this.observe(updated, this.now());
        this.log.info('released the lease', { lease: `${namespace}/${name}` });
        return;
      } catch (err) {
        if (attempt === 0 && err instanceof StatusError && err.code === 409) {
          try {
            const current = await this.call(
              this.renewDeadlineMs,
              (signal) => client.get<Lease>(LEASES, namespace, name, { signal }),
              false,
            );
            this.observe(current, this.now());
            if (!this.observedHolderIsMe()) return;
            continue;
          } catch (getErr) {
            err = getErr;
          }
        }
        this.log.warn('failed to release the lease', { err: errText(err) });
        return;
      }
    }
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

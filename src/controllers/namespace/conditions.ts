// The five conditions the namespace controller keeps on a Terminating namespace, with upstream's
// reasons and messages: each is False with its "ok" reason unless this pass produced a failure.
import type { NamespaceCondition } from '../../api/generated/types.js';

export const NAMESPACE_DELETION_DISCOVERY_FAILURE = 'NamespaceDeletionDiscoveryFailure';
export const NAMESPACE_DELETION_GV_PARSING_FAILURE = 'NamespaceDeletionGroupVersionParsingFailure';
export const NAMESPACE_DELETION_CONTENT_FAILURE = 'NamespaceDeletionContentFailure';
export const NAMESPACE_CONTENT_REMAINING = 'NamespaceContentRemaining';
export const NAMESPACE_FINALIZERS_REMAINING = 'NamespaceFinalizersRemaining';

export const CONDITION_TYPES: readonly string[] = [
  NAMESPACE_DELETION_DISCOVERY_FAILURE,
  NAMESPACE_DELETION_GV_PARSING_FAILURE,
  NAMESPACE_DELETION_CONTENT_FAILURE,
  NAMESPACE_CONTENT_REMAINING,
  NAMESPACE_FINALIZERS_REMAINING,
];

const OK: Record<string, { reason: string; message: string }> = {
  [NAMESPACE_DELETION_DISCOVERY_FAILURE]: {
    reason: 'ResourcesDiscovered',
    message: 'All resources successfully discovered',
  },
  [NAMESPACE_DELETION_GV_PARSING_FAILURE]: {
    reason: 'ParsedGroupVersions',
    message: 'All legacy kube types successfully parsed',
  },
  [NAMESPACE_DELETION_CONTENT_FAILURE]: {
    reason: 'ContentDeleted',
    message: 'All content successfully deleted, may be waiting on finalization',
  },
  [NAMESPACE_CONTENT_REMAINING]: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  [NAMESPACE_FINALIZERS_REMAINING]: {
    reason: 'ContentHasNoFinalizers',
    message: 'All content-preserving finalizers finished',
  },
};

/** What one deletion pass found, turned into failure conditions (upstream's namespaceConditionUpdater). */
export class ConditionUpdater {
  private readonly failures: NamespaceCondition[] = [];
  private readonly contentErrors: string[] = [];

  constructor(private readonly now: () => string) {}

  /** failedGroups: group version → error text; whole: the discovery call itself failed. */
  discoveryFailed(failedGroups: ReadonlyMap<string, string>, whole?: string): void {
    let message: string;
    if (whole !== undefined) message = whole;
    else {
      const parts = [...failedGroups.entries()].map(([gv, err]) => `${gv}: ${err}`).sort();
      message = `Discovery failed for some groups, ${failedGroups.size} failing: unable to retrieve the complete list of server APIs: ${parts.join(', ')}`;
    }
    this.failures.push(this.failure(NAMESPACE_DELETION_DISCOVERY_FAILURE, 'DiscoveryFailed', message));
  }

  groupVersionParsingFailed(message: string): void {
    this.failures.push(
      this.failure(NAMESPACE_DELETION_GV_PARSING_FAILURE, 'GroupVersionParsingFailed', message),
    );
  }

  contentDeletionFailed(message: string): void {
    this.contentErrors.push(message);
  }

  /** remaining: "plural.group" → count; finalizers: finalizer → count. */
  contentTotals(remaining: ReadonlyMap<string, number>, finalizers: ReadonlyMap<string, number>): void {
    const res = [...remaining.entries()]
      .filter(([, n]) => n > 0)
      .map(([gr, n]) => `${gr} has ${n} resource instances`)
      .sort();
    if (remaining.size > 0)
      this.failures.push(
        this.failure(
          NAMESPACE_CONTENT_REMAINING,
          'SomeResourcesRemain',
          `Some resources are remaining: ${res.join(', ')}`,
        ),
      );
    const fin = [...finalizers.entries()]
      .filter(([, n]) => n > 0)
      .map(([f, n]) => `${f} in ${n} resource instances`)
      .sort();
    if (finalizers.size > 0)
      this.failures.push(
        this.failure(
          NAMESPACE_FINALIZERS_REMAINING,
          'SomeFinalizersRemain',
          `Some content in the namespace has finalizers remaining: ${fin.join(', ')}`,
        ),
      );
  }

  private failure(type: string, reason: string, message: string): NamespaceCondition {
    return { type, status: 'True', reason, message, lastTransitionTime: this.now() };
  }

  /** Applies this pass to the conditions in place; true when something changed. */
  update(conditions: NamespaceCondition[]): boolean {
    const fresh = [...this.failures];
    if (!fresh.some((c) => c.type === NAMESPACE_DELETION_CONTENT_FAILURE) && this.contentErrors.length > 0) {
      const msgs = [...this.contentErrors].sort();
      fresh.push(
        this.failure(
          NAMESPACE_DELETION_CONTENT_FAILURE,
          'ContentDeletionFailed',
          `Failed to delete all resource types, ${msgs.length} remaining: ${msgs.join(', ')}`,
        ),
      );
    }
    let changed = false;
    for (const type of CONDITION_TYPES) {
      const ok = OK[type]!;
      const next = fresh.find((c) => c.type === type) ?? {
        type,
        status: 'False',
        reason: ok.reason,
        message: ok.message,
        lastTransitionTime: this.now(),
      };
      const old = conditions.find((c) => c.type === type);
      if (!old) {
        conditions.push(next);
        changed = true;
      } else if (old.status !== next.status || old.reason !== next.reason || old.message !== next.message) {
        if (old.status !== next.status) old.lastTransitionTime = this.now();
        old.status = next.status;
        old.reason = next.reason;
        old.message = next.message;
        changed = true;
      }
    }
    return changed;
  }
}

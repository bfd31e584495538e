// Admission: plugins that see every write after authorization and before storage. Mutating
// plugins (admit) run first, in order, and may change the object; validating plugins (validate)
// run after the object's own validation. Rejecting is throwing a StatusError (usually forbidden or
// invalid), exactly as upstream admission errors surface to clients.
import type { KubeObject } from '../api/meta.js';
import type { ResourceDescription } from '../api/types.js';
import type { UserInfo } from './request-info.js';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionRequest {
  readonly operation: AdmissionOperation;
  readonly resource: ResourceDescription;
  /** '' for the main resource, 'status', 'scale', … */
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
  /** The object to be stored (CREATE, UPDATE); mutating plugins change it in place. */
  readonly object?: KubeObject;
  /** The stored object (UPDATE, DELETE). */
  readonly oldObject?: KubeObject;
  readonly user: UserInfo;
  readonly dryRun: boolean;
}

export interface AdmissionPlugin {
  readonly name: string;
  /** Mutating phase. */
  admit?(req: AdmissionRequest): void | Promise<void>;
  /** Validating phase. */
  validate?(req: AdmissionRequest): void | Promise<void>;
  /**
   * After the write reached storage (never for dry runs); `removed` when the object is gone.
   * Must not throw: the client already has its answer.
   */
  committed?(req: AdmissionRequest, outcome: { readonly removed: boolean }): void;
}

export function notifyCommitted(
  plugins: readonly AdmissionPlugin[],
  req: AdmissionRequest,
  removed: boolean,
): void {
  if (req.dryRun) return;
  for (const p of plugins) p.committed?.(req, { removed });
}

export async function runAdmission(
  plugins: readonly AdmissionPlugin[],
  req: AdmissionRequest,
): Promise<void> {
  for (const p of plugins) if (p.admit) await p.admit(req);
}

export async function runValidation(
  plugins: readonly AdmissionPlugin[],
  req: AdmissionRequest,
): Promise<void> {
  for (const p of plugins) if (p.validate) await p.validate(req);
}

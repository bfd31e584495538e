// Small predicates over API errors that every controller needs.
import { StatusError } from '../../api/errors.js';

export function isNotFound(err: unknown): boolean {
  return err instanceof StatusError && err.code === 404;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof StatusError && err.code === 409 && err.reason === 'AlreadyExists';
}

export function isConflict(err: unknown): boolean {
  return err instanceof StatusError && err.code === 409 && err.reason !== 'AlreadyExists';
}

/** The namespace is being deleted: creates in it will keep failing (upstream's NamespaceTerminatingCause). */
export function isNamespaceTerminating(err: unknown): boolean {
  return (
    err instanceof StatusError &&
    (err.status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating')
  );
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

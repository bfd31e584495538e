// The field manager of a write and the checks upstream makes on PATCH options.
import { fieldErr, invalid } from '../../api/errors.js';
import type { FieldError, StatusError } from '../../api/errors.js';

/** Upstream's limit on a field manager's length, in bytes. */
export const FIELD_MANAGER_MAX_LENGTH = 128;

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrint(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

/**
 * The manager a write is recorded under: the fieldManager parameter, else the user agent up to its
 * first "/" ("kubectl/v1.31.0 (linux/amd64) kubernetes/abc" is "kubectl"), without unprintable
 * characters and cut at 128 bytes.
 */
export function managerOrUserAgent(fieldManager: string | undefined, userAgent: string | undefined): string {
  if (fieldManager) return fieldManager;
  const prefix = (userAgent ?? '').split('/')[0] ?? '';
  let out = '';
  let bytes = 0;
  for (const ch of prefix) {
    if (!isPrint(ch)) continue;
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > FIELD_MANAGER_MAX_LENGTH) break;
    out += ch;
    bytes += n;
  }
  return out;
}

/** Field errors of a fieldManager parameter (too long, unprintable characters). */
export function validateFieldManager(fieldManager: string | undefined, field = 'fieldManager'): FieldError[] {
  const errs: FieldError[] = [];
  if (!fieldManager) return errs;
  if (Buffer.byteLength(fieldManager, 'utf8') > FIELD_MANAGER_MAX_LENGTH) {
    errs.push(fieldErr.tooLong(field, fieldManager, FIELD_MANAGER_MAX_LENGTH));
  }
  let i = 0;
  for (const ch of fieldManager) {
    if (!isPrint(ch)) {
      const code = ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      errs.push(fieldErr.invalid(field, fieldManager, `invalid character U+${code} (at position ${i})`));
    }
    i += Buffer.byteLength(ch, 'utf8');
  }
  return errs;
}

/**
 * Upstream's ValidatePatchOptions: force only with apply, a field manager required for apply.
 * Returns the 422 to answer, or undefined.
 */
export function validatePatchOptions(
  patchType: 'json' | 'merge' | 'strategic' | 'apply',
  options: { fieldManager?: string; force?: boolean },
): StatusError | undefined {
  const errs: FieldError[] = [];
  if (patchType !== 'apply') {
    if (options.force !== undefined)
      errs.push(fieldErr.forbidden('force', 'may not be specified for non-apply patch'));
  } else if (!options.fieldManager) {
    errs.push(fieldErr.required('fieldManager', 'is required for apply patch'));
  }
  errs.push(...validateFieldManager(options.fieldManager));
  return errs.length > 0 ? invalid('PatchOptions', 'meta.k8s.io', '', errs) : undefined;
}

// Key ordering and ranges shared by the backends. Every backend orders keys by their UTF-8 bytes
// (etcd and SQLite's BINARY collation both do), which is code point order, not JavaScript's UTF-16
// code unit order: the two disagree when a supplementary character meets one at or above U+E000.
import { CompactedError, FutureRevisionError, InvalidInputError } from './errors.js';

/** Code point order, the order of the UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Move surrogates above U+E000..U+FFFF so that code units compare like code points.
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * The smallest string greater than every string that starts with prefix (exclusive range end),
 * or undefined when there is none. Incrementing the last code point keeps the bound a valid string.
 */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return cps.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

export function validatePrefix(prefix: string): void {
  if (typeof prefix !== 'string' || !prefix.startsWith('/'))
    throw new InvalidInputError(`prefix must start with "/": ${JSON.stringify(prefix)}`);
  if (prefix.includes('\0')) throw new InvalidInputError('prefix must not contain a NUL character');
  if (!prefix.isWellFormed()) throw new InvalidInputError('prefix is not well-formed unicode');
}

export function validateRevision(name: string, revision: number | undefined): void {
  if (revision === undefined) return;
  if (!Number.isSafeInteger(revision) || revision < 0)
    throw new InvalidInputError(`${name} must be a non-negative integer, got ${revision}`);
}

/**
 * The revision a read happens at: the current one when none is asked for; a future revision or one
 * already compacted away fails with its typed error, the same in every backend that keeps history.
 */
export function resolveReadRevision(
  requested: number | undefined,
  current: number,
  compacted: number,
): number {
  validateRevision('revision', requested);
  if (!requested) return current;
  if (requested > current) throw new FutureRevisionError(requested, current);
  if (requested < compacted) throw new CompactedError(requested, compacted);
  return requested;
}

export function validateLimit(limit: number | undefined): void {
  if (limit === undefined) return;
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new InvalidInputError(`limit must be a non-negative integer, got ${limit}`);
}

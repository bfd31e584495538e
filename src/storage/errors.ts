// Typed storage errors: the API server maps each to its HTTP status (409, 404, 410, 400).
import type { KeyValue } from './types.js';

export class StorageError extends Error {
  override readonly name: string = 'StorageError';
}

export class KeyExistsError extends StorageError {
  override readonly name = 'KeyExistsError';
  constructor(readonly key: string) {
    super(`key already exists: ${key}`);
  }
}

export class KeyNotFoundError extends StorageError {
  override readonly name = 'KeyNotFoundError';
  constructor(readonly key: string) {
    super(`key not found: ${key}`);
  }
}

/** The key changed since the revision the caller read: the optimistic-concurrency failure. */
export class ConflictError extends StorageError {
  override readonly name = 'ConflictError';
  constructor(
    readonly key: string,
    readonly current: KeyValue | undefined,
  ) {
    super(`key ${key} was modified: expected an older revision than ${current?.modRevision ?? 'none'}`);
  }
}

/** The requested revision has been compacted away (the API server answers 410 Gone). */
export class CompactedError extends StorageError {
  override readonly name = 'CompactedError';
  constructor(
    readonly requested: number,
    readonly compacted: number,
  ) {
    super(`required revision ${requested} has been compacted (compacted revision is ${compacted})`);
  }
}

/** A revision in the future of the store. */
export class FutureRevisionError extends StorageError {
  override readonly name = 'FutureRevisionError';
  constructor(
    readonly requested: number,
    readonly current: number,
  ) {
    super(`required revision ${requested} is a future revision (current revision is ${current})`);
  }
}

/** A key or value that no backend may store; nothing was written. */
export class InvalidInputError extends StorageError {
  override readonly name = 'InvalidInputError';
}

/** The store is closed, or the data dir cannot be used. */
export class UnavailableError extends StorageError {
  override readonly name = 'UnavailableError';
}

export const MAX_VALUE_BYTES = 3 * 1024 * 1024;
export const MAX_KEY_BYTES = 4096;

/** Shared input validation, so every backend refuses the same things with the same error. */
export function validateKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0)
    throw new InvalidInputError('key must be a non-empty string');
  if (!key.startsWith('/')) throw new InvalidInputError(`key must start with "/": ${JSON.stringify(key)}`);
  if (key.includes('\0')) throw new InvalidInputError('key must not contain a NUL character');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new InvalidInputError(`key is longer than ${MAX_KEY_BYTES} bytes`);
  if (!key.isWellFormed()) throw new InvalidInputError('key is not well-formed unicode');
}

export function validateValue(value: string): void {
  if (typeof value !== 'string') throw new InvalidInputError('value must be a string');
  if (Buffer.byteLength(value) > MAX_VALUE_BYTES)
    throw new InvalidInputError(`value is larger than ${MAX_VALUE_BYTES} bytes`);
  if (!value.isWellFormed()) throw new InvalidInputError('value is not well-formed unicode');
}

export function validateTtl(ttlSeconds: number | undefined): void {
  if (ttlSeconds === undefined) return;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)
    throw new InvalidInputError(`ttlSeconds must be a positive integer, got ${ttlSeconds}`);
}

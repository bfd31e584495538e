// Run a synchronous storage operation as a promise: whatever it throws (InvalidInputError,
// KeyExistsError, ...) becomes a rejection, so callers see one error path whatever the backend.
export function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

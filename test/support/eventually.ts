// Polls until a probe returns a value: how the integration and end-to-end tests wait for the cluster
// to converge. A probe that throws fails the wait at once, unless `retryErrors` says that errors are
// expected on the way (an object not created yet); then the last one is reported on timeout.
import assert from 'node:assert/strict';

export interface EventuallyOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  readonly retryErrors?: boolean;
}

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if (!opts.retryErrors) throw err;
      last = err;
    }
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

// Test helpers for client code: polling for a condition and checking that nothing was left running.
import assert from 'node:assert/strict';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls cond every 5 ms until it holds, failing after timeoutMs. */
export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function counts(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

/**
 * Snapshot of the active handles (timers, sockets, servers); `check()` waits briefly for resources
 * that are closing and fails if any are left beyond the snapshot.
 */
export function leakCheck(): { check(): Promise<void> } {
  const before = counts();
  const extra = (): string[] => {
    const out: string[] = [];
    for (const [k, n] of counts()) {
      const b = before.get(k) ?? 0;
      if (n > b) out.push(`${k}×${n - b}`);
    }
    return out;
  };
  return {
    async check() {
      const deadline = Date.now() + 2000;
      // The polling sleep itself is a Timeout: compare after it has fired.
      for (;;) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        const left = extra();
        if (left.length === 0) return;
        if (Date.now() > deadline) assert.fail(`leaked resources: ${left.join(', ')}`);
        await sleep(10);
      }
    },
  };
}

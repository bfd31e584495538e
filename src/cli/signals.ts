// How the long-running commands wait to be stopped.

/**
 * Resolves with the first SIGINT or SIGTERM; its handlers are removed then, or when `abort` fires
 * (the command stops for another reason), so a later signal gets node's default again.
 */
export function waitForSignal(abort?: AbortSignal): Promise<NodeJS.Signals | undefined> {
  return new Promise((resolve) => {
    const done = (sig: NodeJS.Signals | undefined): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      abort?.removeEventListener('abort', onAbort);
      resolve(sig);
    };
    const on = (sig: NodeJS.Signals): void => done(sig);
    const onAbort = (): void => done(undefined);
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    if (abort?.aborted) done(undefined);
    else abort?.addEventListener('abort', onAbort);
  });
}

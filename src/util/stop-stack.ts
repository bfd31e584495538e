// What a component started, stopped in the reverse order: each piece once, and a piece that fails
// to stop is logged without keeping the others running.
import type { Logger } from './log.js';

export type Stop = () => Promise<void> | void;

export class StopStack {
  private readonly stops: Stop[] = [];

  /** `failure` is the log message for a piece that fails to stop. */
  constructor(
    private readonly log: Logger,
    private readonly failure: string,
  ) {}

  push(stop: Stop): void {
    this.stops.push(stop);
  }

  /** Stops everything pushed so far, newest first; a second call stops only what came since. */
  async stopAll(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        this.log.error(this.failure, { error: err });
      }
    }
  }
}

// The outcome of a plugin call, with upstream's codes: what each code means for the pod decides
// whether preemption may help and whether the pod goes to the unschedulable pool or to back-off.

export enum Code {
  Success = 0,
  /** An internal error: the pod is retried with back-off, no preemption. */
  Error = 1,
  /** The pod does not fit now; preemption may help. */
  Unschedulable = 2,
  /** The pod does not fit and preemption cannot help on this node. */
  UnschedulableAndUnresolvable = 3,
  /** A Permit plugin holds the pod. */
  Wait = 4,
  /** The plugin has nothing to do for this pod (PreFilter, PreScore, Bind). */
  Skip = 5,
  /** The pod waits for something outside the scheduler; it is not retried on back-off. */
  Pending = 6,
}

export const CODE_NAMES: Record<Code, string> = {
  [Code.Success]: 'Success',
  [Code.Error]: 'Error',
  [Code.Unschedulable]: 'Unschedulable',
  [Code.UnschedulableAndUnresolvable]: 'UnschedulableAndUnresolvable',
  [Code.Wait]: 'Wait',
  [Code.Skip]: 'Skip',
  [Code.Pending]: 'Pending',
};

export class Status {
  /** The plugin that returned it (set by the framework). */
  plugin = '';
  constructor(
    readonly code: Code,
    readonly reasons: readonly string[] = [],
    readonly err?: Error,
  ) {}

  static readonly SUCCESS = Object.freeze(new Status(Code.Success)) as Status;
  static readonly SKIP = Object.freeze(new Status(Code.Skip)) as Status;

  static error(err: unknown): Status {
    const e = err instanceof Error ? err : new Error(String(err));
    return new Status(Code.Error, [e.message], e);
  }
  static unschedulable(...reasons: string[]): Status {
    return new Status(Code.Unschedulable, reasons);
  }
  static unresolvable(...reasons: string[]): Status {
    return new Status(Code.UnschedulableAndUnresolvable, reasons);
  }

  isSuccess(): boolean {
    return this.code === Code.Success;
  }
  isSkip(): boolean {
    return this.code === Code.Skip;
  }
  isRejected(): boolean {
    return (
      this.code === Code.Unschedulable ||
      this.code === Code.UnschedulableAndUnresolvable ||
      this.code === Code.Pending
    );
  }
  message(): string {
    return this.reasons.join(', ');
  }
  withPlugin(name: string): Status {
    if (this.plugin === name) return this;
    const s = new Status(this.code, this.reasons, this.err);
    s.plugin = name;
    return s;
  }
}

export function isSuccess(s: Status | undefined): boolean {
  return s === undefined || s.code === Code.Success;
}

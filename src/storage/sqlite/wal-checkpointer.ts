// The main-thread side of WAL checkpointing for SqliteStore (the work is in checkpointer.ts).
//
// Passive checkpoints run in the thread every CHECKPOINT_EVERY_WRITES writes while commits go on.
// But SQLite starts the WAL over only when a commit finds every frame already copied, and with
// commits overlapping every checkpoint that never happens: the WAL would grow for ever. So once it
// is big, the store holds its writes back (queued, not blocking the event loop: reads and watches
// go on) while the thread copies the few frames left and resets the WAL. After a compaction the
// same is done with TRUNCATE, so the space compaction freed leaves the disk.
import { Worker } from 'node:worker_threads';
import type { CheckpointMode, CheckpointReply, CheckpointRequest } from './checkpointer.js';
import type { Logger } from '../../util/log.js';
import { metrics } from '../../util/metrics.js';

const CHECKPOINT_EVERY_WRITES = 500;
/**
 * Past this many WAL frames (4 KiB pages: 32 MiB) the WAL is reset with writes held. A reset costs
 * the writes queued behind it a few milliseconds whatever the WAL size (most was copied already),
 * so it is rare on purpose.
 */
export const RESTART_WAL_FRAMES = 8192;

/** Reset only when at most this many writes are left uncopied... */
const RESET_MAX_PENDING_WRITES = 64;
/** ...or after this many passive checkpoints chasing a writer that never pauses. */
const MAX_CHASE = 4;

const heldSeconds = metrics.histogram(
  'k8ts_storage_sqlite_writes_held_seconds',
  'How long writes waited while the WAL was reset, by checkpoint mode.',
  [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
);
const checkpointSeconds = metrics.histogram(
  'k8ts_storage_sqlite_checkpoint_duration_seconds',
  'WAL checkpoints on the checkpointer thread, by mode.',
  [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
);

export interface WriteGate {
  /** Stop committing; writes queue up. */
  hold(): void;
  /** Commit again, starting with what queued up. */
  resume(): void;
}

export class WalCheckpointer {
  private worker: Worker | undefined;
  /** The thread died (or the store closed): checkpoints stay with SQLite's auto-checkpoint. */
  private gone = false;
  private readonly waiters: ((r: CheckpointReply) => void)[] = [];
  private writes = 0;
  private passiveInFlight = false;
  private resetting = false;

  constructor(
    private readonly file: string,
    private readonly gate: WriteGate,
    private readonly log: Logger,
    /** Called if the thread dies: SQLite's own auto-checkpoint has to take over. */
    private readonly onLost: () => void,
  ) {}

  /**
   * The thread, started at the first checkpoint: a server that writes little (an idle control
   * plane) does not carry it.
   */
  private thread(): Worker | undefined {
    if (this.gone) return undefined;
    if (this.worker) return this.worker;
    // It only runs PRAGMA wal_checkpoint: a small young generation keeps its resident memory small.
    const w = new Worker(new URL('./checkpointer.js', import.meta.url), {
      workerData: { file: this.file },
      resourceLimits: { maxYoungGenerationSizeMb: 2 },
    });
    w.unref();
    w.on('message', (reply: CheckpointReply) => {
      checkpointSeconds.observe(reply.seconds, { mode: reply.mode });
      if (!reply.ok) this.log.warn('checkpoint failed', { mode: reply.mode, err: reply.error });
      this.waiters.shift()?.(reply);
    });
    w.on('error', (err) => {
      this.log.warn('checkpointer thread failed; checkpoints move back into commits', { err });
      this.lost();
      this.onLost();
    });
    w.on('exit', () => this.lost());
    this.worker = w;
    return w;
  }

  private lost(): void {
    this.worker = undefined;
    this.gone = true;
    const failed: CheckpointReply = { mode: 'passive', ok: false, seconds: 0, walFrames: -1, busy: true };
    for (const resolve of this.waiters.splice(0)) resolve(failed);
  }

  private run(mode: CheckpointMode): Promise<CheckpointReply> {
    const w = this.thread();
    if (!w)
      return Promise.resolve({
        mode,
        ok: false,
        seconds: 0,
        walFrames: -1,
        busy: true,
        error: 'no checkpointer',
      });
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      w.postMessage(mode satisfies CheckpointRequest);
    });
  }

  /** Count committed writes; start a passive checkpoint now and then. */
  noteWrites(n: number): void {
    this.writes += n;
    if (this.writes < CHECKPOINT_EVERY_WRITES || this.passiveInFlight || this.resetting || this.gone) return;
    this.passive(0);
  }

  private passive(chase: number): void {
    this.writes = 0;
    this.passiveInFlight = true;
    void this.run('passive').then((reply) => {
      this.passiveInFlight = false;
      if (!reply.ok || reply.walFrames < RESTART_WAL_FRAMES) return;
      // What the reset must still copy (and fsync, with writes held) is what came in during the
      // passive checkpoint: when that was a lot, chase with another passive one first.
      if (this.writes > RESET_MAX_PENDING_WRITES && chase < MAX_CHASE) this.passive(chase + 1);
      else void this.reset('restart');
    });
  }

  /** Copy the rest of the WAL and start it over, with writes held meanwhile. */
  async reset(mode: 'restart' | 'truncate'): Promise<boolean> {
    if (this.resetting || this.gone) return false;
    this.resetting = true;
    this.gate.hold();
    const start = performance.now();
    try {
      const reply = await this.run(mode);
      this.writes = 0;
      return reply.ok && !reply.busy;
    } finally {
      this.resetting = false;
      this.gate.resume();
      heldSeconds.observe((performance.now() - start) / 1000, { mode });
    }
  }

  /** Checkpoints can run on the thread (it is running, or will start when first needed). */
  get running(): boolean {
    return !this.gone;
  }

  async close(): Promise<void> {
    this.gone = true;
    const w = this.worker;
    if (!w) return;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage('close' satisfies CheckpointRequest);
    const timer = setTimeout(() => void w.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }
}

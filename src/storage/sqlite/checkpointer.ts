// Worker thread that checkpoints the SQLite WAL into the database file. A checkpoint copies every
// page committed since the last one and fsyncs both files; on this kind of disk that takes from
// one to tens of milliseconds, and inside a commit (SQLite's auto-checkpoint) it stalls the event
// loop for that long, which was most of the write tail latency. Here it runs beside the writer:
// in WAL mode a passive checkpoint and commits overlap. The main-thread side is wal-checkpointer.ts.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * passive: copy what is there, beside the writer. restart and truncate are asked while the writer
 * holds its writes back: they copy the rest and make the next commit start the WAL over (truncate
 * also shrinks the file to nothing).
 */
export type CheckpointMode = 'passive' | 'restart' | 'truncate';
export type CheckpointRequest = CheckpointMode | 'close';

export interface CheckpointReply {
  readonly mode: CheckpointMode;
  readonly ok: boolean;
  readonly seconds: number;
  /** Frames in the WAL when the checkpoint ran (-1 when it could not run). */
  readonly walFrames: number;
  /** The checkpoint could not complete (a reader or writer was in the way). */
  readonly busy: boolean;
  readonly error?: string;
}

const port = parentPort;
if (!port) throw new Error('checkpointer must run in a worker thread');
const { file } = workerData as { file: string };
const db = new Database(file, { fileMustExist: true, timeout: 1000 });
db.pragma('synchronous = NORMAL');

port.on('message', (msg: CheckpointRequest) => {
  if (msg === 'close') {
    db.close();
    port.close();
    return;
  }
  const start = performance.now();
  let reply: CheckpointReply;
  try {
    const [row] = db.pragma(`wal_checkpoint(${msg.toUpperCase()})`) as { busy: number; log: number }[];
    reply = {
      mode: msg,
      ok: true,
      seconds: (performance.now() - start) / 1000,
      walFrames: row?.log ?? -1,
      busy: (row?.busy ?? 1) !== 0,
    };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    reply = {
      mode: msg,
      ok: false,
      seconds: (performance.now() - start) / 1000,
      walFrames: -1,
      busy: true,
      error,
    };
  }
  port.postMessage(reply);
});

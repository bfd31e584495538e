// Container logs as the CRI runtime writes them (one file per container attempt under the pod's
// log folder, each line "<RFC3339Nano time> <stdout|stderr> <P|F> <text>", P marking a partial
// line continued by the next record), read back for `kubectl logs`: tail, since, timestamps,
// limitBytes, and follow.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';

export interface CriLogRecord {
  /** The time exactly as written (nanoseconds). */
  time: string;
  stream: 'stdout' | 'stderr';
  /** The line's text, with its trailing newline when the line is complete. */
  text: string;
}

export interface LogReadOptions {
  /** Only the last N lines. */
  tailLines?: number;
  /** Only lines written at or after this time (ms since the epoch). */
  sinceMs?: number;
  /** Prefix each line with its time (as kubectl logs --timestamps). */
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
}

/** Parses the CRI log text, joining partial records into whole lines. */
export function parseCriLog(text: string): CriLogRecord[] {
  const out: CriLogRecord[] = [];
  let pending: CriLogRecord | undefined;
  for (const line of text.split('\n')) {
    if (!line) continue;
    const a = line.indexOf(' ');
    const b = line.indexOf(' ', a + 1);
    const c = line.indexOf(' ', b + 1);
    if (a < 0 || b < 0) continue;
    const time = line.slice(0, a);
    const stream = line.slice(a + 1, b) === 'stderr' ? 'stderr' : 'stdout';
    const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
    const body = c < 0 ? '' : line.slice(c + 1);
    const partial = tag.split(':').includes('P');
    if (pending && pending.stream === stream) pending.text += body;
    else {
      if (pending) out.push(pending);
      pending = { time, stream, text: body };
    }
    if (!partial) {
      pending.text += '\n';
      out.push(pending);
      pending = undefined;
    }
  }
  if (pending) out.push(pending);
  return out;
}

function render(records: CriLogRecord[], opts: LogReadOptions): string {
  let list = records;
  if (opts.sinceMs !== undefined) {
    const since = opts.sinceMs;
    list = list.filter((r) => Date.parse(r.time) >= since);
  }
  if (opts.tailLines !== undefined && opts.tailLines >= 0)
    list = list.slice(Math.max(0, list.length - opts.tailLines));
  let text = list.map((r) => (opts.timestamps ? `${r.time} ${r.text}` : r.text)).join('');
  if (opts.limitBytes !== undefined && Buffer.byteLength(text) > opts.limitBytes)
    text = Buffer.from(text).subarray(0, opts.limitBytes).toString('utf8');
  return text;
}

/** Reads a container's log file (empty when it does not exist yet). */
export async function readCriLog(file: string, opts: LogReadOptions = {}): Promise<string> {
  if (!existsSync(file)) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(file)) chunks.push(chunk as Buffer);
  return render(parseCriLog(Buffer.concat(chunks).toString('utf8')), opts);
}

/**
 * Follows a log file: yields what is there (per opts), then new lines as they are written, until
 * `signal` aborts or `stillRunning` says the container has stopped and nothing more arrived.
 */
export async function* followCriLog(
  file: string,
  opts: LogReadOptions & {
    signal?: AbortSignal;
    pollMs?: number;
    stillRunning?: () => Promise<boolean>;
  } = {},
): AsyncGenerator<string> {
  const first = await readCriLog(file, opts);
  if (first) yield first;
  let offset = existsSync(file) ? statSync(file).size : 0;
  let carry = '';
  const pollMs = opts.pollMs ?? 200;
  while (!opts.signal?.aborted) {
    const size = existsSync(file) ? statSync(file).size : 0;
    if (size < offset) offset = 0; // rotated or truncated
    if (size > offset) {
      const fh = await open(file, 'r');
      try {
        const buf = Buffer.alloc(size - offset);
        await fh.read(buf, 0, buf.length, offset);
        offset = size;
        const text = carry + buf.toString('utf8');
        const cut = text.lastIndexOf('\n');
        carry = cut < 0 ? text : text.slice(cut + 1);
        const whole = cut < 0 ? '' : text.slice(0, cut + 1);
        const out = render(parseCriLog(whole), { timestamps: opts.timestamps });
        if (out) yield out;
      } finally {
        await fh.close();
      }
      continue;
    }
    if (opts.stillRunning && !(await opts.stillRunning())) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, pollMs);
      opts.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
}

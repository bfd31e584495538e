// A small SPDY/3.1 client session, enough to speak Kubernetes' remote-command protocol to a
// container runtime's streaming server: the client opens one stream per channel (error, stdin,
// stdout, stderr, resize) with a "streamtype" header, sends stdin as DATA frames and half-closes it
// with FIN (the end of input that the WebSocket v4 protocol cannot express), and reads the
// runtime's DATA frames back. Header blocks we send are zlib streams with SPDY's preset
// dictionary, written as stored (uncompressed) deflate blocks each closed by a sync flush; header blocks we receive are never
// needed (a stream's id is outside its block), so they are skipped.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';

// ---- SPDY/3 header dictionary (from the SPDY/3 specification): length-prefixed names, then text.

const DICTIONARY_WORDS = [
  'options',
  'head',
  'post',
  'put',
  'delete',
  'trace',
  'accept',
  'accept-charset',
  'accept-encoding',
  'accept-language',
  'accept-ranges',
  'age',
  'allow',
  'authorization',
  'cache-control',
  'connection',
  'content-base',
  'content-encoding',
  'content-language',
  'content-length',
  'content-location',
  'content-md5',
  'content-range',
  'content-type',
  'date',
  'etag',
  'expect',
  'expires',
  'from',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'pragma',
  'proxy-authenticate',
  'proxy-authorization',
  'range',
  'referer',
  'retry-after',
  'server',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'vary',
  'via',
  'warning',
  'www-authenticate',
  'method',
  'get',
  'status',
  '200 OK',
  'version',
  'HTTP/1.1',
  'url',
  'public',
  'set-cookie',
  'keep-alive',
  'origin',
];
const DICTIONARY_TAIL =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized' +
  '403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,' +
  'text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

export const SPDY_DICTIONARY: Buffer = Buffer.concat([
  ...DICTIONARY_WORDS.map((w) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    return Buffer.concat([len, Buffer.from(w, 'latin1')]);
  }),
  Buffer.from(DICTIONARY_TAIL, 'latin1'),
]);

function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

const TYPE_SYN_STREAM = 1;
const TYPE_SYN_REPLY = 2;
const TYPE_RST_STREAM = 3;
const TYPE_PING = 6;
const TYPE_GOAWAY = 7;
const TYPE_WINDOW_UPDATE = 9;
const FLAG_FIN = 0x01;
const VERSION = 3;

/** Encodes header blocks as one zlib stream (preset dictionary) of stored deflate blocks. */
export class SpdyHeaderEncoder {
  private started = false;

  encode(headers: Readonly<Record<string, string>>): Buffer {
    const parts: Buffer[] = [];
    const u32 = (n: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    const entries = Object.entries(headers);
    parts.push(u32(entries.length));
    for (const [name, value] of entries) {
      const n = Buffer.from(name.toLowerCase(), 'utf8');
      const v = Buffer.from(value, 'utf8');
      parts.push(u32(n.length), n, u32(v.length), v);
    }
    const raw = Buffer.concat(parts);
    const out: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      // CMF 0x78 (deflate, 32K window), FLG 0xBB (preset dictionary; check bits make it % 31 == 0).
      const head = Buffer.from([0x78, 0xbb, 0, 0, 0, 0]);
      head.writeUInt32BE(adler32(SPDY_DICTIONARY), 2);
      out.push(head);
    }
    for (let off = 0; off < raw.length || off === 0; off += 0xffff) {
      const chunk = raw.subarray(off, Math.min(raw.length, off + 0xffff));
      const blockHead = Buffer.alloc(5);
      blockHead[0] = 0; // not final, stored
      blockHead.writeUInt16LE(chunk.length, 1);
      blockHead.writeUInt16LE(~chunk.length & 0xffff, 3);
      out.push(blockHead, chunk);
      if (raw.length === 0) break;
    }
    // An empty stored block, as a sync flush writes: it makes the reader hand over what it has.
    out.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(out);
  }
}

export class SpdyStream extends EventEmitter {
  replied = false;
  finished = false;
  private sentFin = false;
  private readonly queue: { data: Buffer; fin: boolean }[] = [];

  constructor(
    readonly id: number,
    private readonly session: SpdyClientSession,
  ) {
    super();
  }

  /** Sends data (held until the server has replied to the stream). */
  write(data: Buffer): void {
    if (this.sentFin) return;
    if (!this.replied) this.queue.push({ data, fin: false });
    else this.session.sendData(this.id, data, false);
  }

  /** Half-closes the stream: the server reads end of input. */
  end(): void {
    if (this.sentFin) return;
    this.sentFin = true;
    if (!this.replied) this.queue.push({ data: Buffer.alloc(0), fin: true });
    else this.session.sendData(this.id, Buffer.alloc(0), true);
  }

  /** @internal */
  onReply(): void {
    this.replied = true;
    for (const q of this.queue.splice(0)) this.session.sendData(this.id, q.data, q.fin);
  }
}

/**
 * A SPDY/3.1 client session over a socket that has switched protocols. Emits 'close' once when
 * the connection ends. Streams emit 'data' (Buffer) and 'end'.
 */
export class SpdyClientSession extends EventEmitter {
  private nextId = 1;
  private readonly streams = new Map<number, SpdyStream>();
  private readonly encoder = new SpdyHeaderEncoder();
  private buffer: Buffer = Buffer.alloc(0);
  private closed = false;

  constructor(private readonly socket: Duplex) {
    super();
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    socket.on('close', () => this.shutdown());
    socket.on('end', () => this.shutdown());
    socket.on('error', () => this.shutdown());
  }

  openStream(headers: Readonly<Record<string, string>>): SpdyStream {
    const id = this.nextId;
    this.nextId += 2;
    const stream = new SpdyStream(id, this);
    this.streams.set(id, stream);
    const block = this.encoder.encode(headers);
    const body = Buffer.alloc(10);
    body.writeUInt32BE(id & 0x7fffffff, 0);
    body.writeUInt32BE(0, 4);
    body[8] = 0; // priority 0
    body[9] = 0; // slot
    this.sendControl(TYPE_SYN_STREAM, 0, Buffer.concat([body, block]));
    return stream;
  }

  close(): void {
    if (!this.closed) {
      // Last good stream id (the server opened none) and status OK.
      this.sendControl(TYPE_GOAWAY, 0, Buffer.alloc(8));
    }
    this.socket.end();
    this.shutdown();
  }

  /** @internal */
  sendData(id: number, data: Buffer, fin: boolean): void {
    if (this.closed) return;
    for (let off = 0; off < data.length || (off === 0 && fin); off += 0xffffff) {
      const chunk = data.subarray(off, Math.min(data.length, off + 0xffffff));
      const last = off + chunk.length >= data.length;
      const head = Buffer.alloc(8);
      head.writeUInt32BE(id & 0x7fffffff, 0);
      head.writeUInt32BE(((fin && last ? FLAG_FIN : 0) << 24) | chunk.length, 4);
      this.socket.write(Buffer.concat([head, chunk]));
      if (data.length === 0) break;
    }
  }

  private sendControl(type: number, flags: number, payload: Buffer): void {
    if (this.closed) return;
    const head = Buffer.alloc(8);
    head.writeUInt16BE(0x8000 | VERSION, 0);
    head.writeUInt16BE(type, 2);
    head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
    this.socket.write(Buffer.concat([head, payload]));
  }

  private onBytes(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.buffer.length >= 8) {
      const length = this.buffer.readUInt32BE(4) & 0xffffff;
      if (this.buffer.length < 8 + length) return;
      const frame = this.buffer.subarray(0, 8 + length);
      this.buffer = this.buffer.subarray(8 + length);
      this.onFrame(frame);
    }
  }

  private onFrame(frame: Buffer): void {
    const flags = frame[4] ?? 0;
    const payload = frame.subarray(8);
    if ((frame[0]! & 0x80) === 0) {
      const id = frame.readUInt32BE(0) & 0x7fffffff;
      const stream = this.streams.get(id);
      if (!stream) return;
      if (payload.length > 0) {
        stream.emit('data', Buffer.from(payload));
        this.windowUpdate(id, payload.length);
      }
      if (flags & FLAG_FIN) this.finish(stream);
      return;
    }
    const type = frame.readUInt16BE(2);
    switch (type) {
      case TYPE_SYN_REPLY: {
        const stream = this.streams.get(payload.readUInt32BE(0) & 0x7fffffff);
        if (stream) {
          stream.onReply();
          if (flags & FLAG_FIN) this.finish(stream);
        }
        return;
      }
      case TYPE_RST_STREAM: {
        const stream = this.streams.get(payload.readUInt32BE(0) & 0x7fffffff);
        if (stream) this.finish(stream);
        return;
      }
      case TYPE_PING:
        this.sendControl(TYPE_PING, 0, Buffer.from(payload));
        return;
      case TYPE_GOAWAY:
        this.shutdown();
        return;
      default:
        // SETTINGS, HEADERS, WINDOW_UPDATE and server-initiated streams carry nothing we need.
        return;
    }
  }

  private windowUpdate(id: number, delta: number): void {
    const body = Buffer.alloc(8);
    body.writeUInt32BE(id & 0x7fffffff, 0);
    body.writeUInt32BE(delta & 0x7fffffff, 4);
    this.sendControl(TYPE_WINDOW_UPDATE, 0, body);
  }

  private finish(stream: SpdyStream): void {
    if (stream.finished) return;
    stream.finished = true;
    stream.emit('end');
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) this.finish(s);
    this.socket.destroy();
    this.emit('close');
  }
}

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Duplex } from 'node:stream';
import { describe, test } from 'node:test';
import { inflateSync, constants as zc } from 'node:zlib';
import { SPDY_DICTIONARY, SpdyClientSession, SpdyHeaderEncoder } from './spdy.js';

/** A socket stand-in: what the session writes is collected; push() feeds it bytes. */
class FakeSocket extends Duplex {
  readonly written: Buffer[] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.written.push(chunk);
    cb();
  }
}

function frames(
  bufs: readonly Buffer[],
): { control: boolean; type: number; id: number; flags: number; payload: Buffer }[] {
  let all = Buffer.concat(bufs);
  const out = [];
  while (all.length >= 8) {
    const len = all.readUInt32BE(4) & 0xffffff;
    const control = (all[0]! & 0x80) !== 0;
    out.push({
      control,
      type: control ? all.readUInt16BE(2) : 0,
      id: control
        ? all.length >= 12
          ? all.readUInt32BE(8) & 0x7fffffff
          : 0
        : all.readUInt32BE(0) & 0x7fffffff,
      flags: all[4]!,
      payload: all.subarray(8, 8 + len),
    });
    all = all.subarray(8 + len);
  }
  return out;
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE((flags << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

function data(id: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(id, 0);
  head.writeUInt32BE((flags << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

describe('SPDY client session', () => {
  test('the header dictionary is the 1423 bytes of the SPDY/3 specification', () => {
    assert.equal(SPDY_DICTIONARY.length, 1423);
    assert.equal(
      createHash('sha256').update(SPDY_DICTIONARY).digest('hex'),
      '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02',
    );
  });

  test('header blocks form one zlib stream with the preset dictionary', () => {
    const enc = new SpdyHeaderEncoder();
    const a = enc.encode({ streamtype: 'error' });
    const b = enc.encode({ StreamType: 'stdout', port: '80' });
    const raw = inflateSync(Buffer.concat([a, b]), {
      dictionary: SPDY_DICTIONARY,
      finishFlush: zc.Z_SYNC_FLUSH,
    });
    const block = (pairs: [string, string][]): Buffer => {
      const parts: Buffer[] = [];
      const u32 = (n: number): Buffer => {
        const x = Buffer.alloc(4);
        x.writeUInt32BE(n);
        return x;
      };
      parts.push(u32(pairs.length));
      for (const [k, v] of pairs) parts.push(u32(k.length), Buffer.from(k), u32(v.length), Buffer.from(v));
      return Buffer.concat(parts);
    };
    assert.deepEqual(
      raw,
      Buffer.concat([
        block([['streamtype', 'error']]),
        block([
          ['streamtype', 'stdout'],
          ['port', '80'],
        ]),
      ]),
    );
  });

  test('streams: SYN_STREAM with odd ids, data held until the reply, FIN, ping echo, window updates', () => {
    const socket = new FakeSocket();
    const session = new SpdyClientSession(socket);
    const s1 = session.openStream({ streamtype: 'error' });
    const s3 = session.openStream({ streamtype: 'stdin' });
    assert.deepEqual([s1.id, s3.id], [1, 3]);
    s3.write(Buffer.from('early'));
    s3.end();
    let sent = frames(socket.written);
    assert.deepEqual(
      sent.map((f) => [f.control, f.type, f.id]),
      [
        [true, 1, 1],
        [true, 1, 3],
      ],
    );
    // SYN_REPLY for stream 3 (its header block is not read), delivered in two pieces.
    const reply = control(2, 0, Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('ignored-block')]));
    socket.push(reply.subarray(0, 5));
    socket.push(reply.subarray(5));
    const received: string[] = [];
    let ended = false;
    s1.on('data', (d: Buffer) => received.push(d.toString()));
    s1.on('end', () => (ended = true));
    socket.push(
      Buffer.concat([data(1, 0, Buffer.from('{"status":')), data(1, 1, Buffer.from('"Success"}'))]),
    );
    socket.push(control(6, 0, Buffer.from([0, 0, 0, 2])));
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        sent = frames(socket.written);
        const onStdin = sent.filter((f) => !f.control && f.id === 3);
        assert.deepEqual(
          onStdin.map((f) => [f.payload.toString(), f.flags]),
          [
            ['early', 0],
            ['', 1],
          ],
        );
        assert.equal(received.join(''), '{"status":"Success"}');
        assert.ok(ended);
        const ping = sent.find((f) => f.control && f.type === 6);
        assert.deepEqual(ping?.payload, Buffer.from([0, 0, 0, 2]));
        assert.ok(sent.some((f) => f.control && f.type === 9 && f.id === 1));
        session.close();
        resolve();
      }),
    );
  });
});

// Binary frames and the record layout (extension/formats/{records,frames,framed-stream}.ts): round trips,
// property tests over arbitrary payloads and arbitrary chunking of the byte stream, malformed input refused,
// and a real vscode-jsonrpc connection pair exchanging requests and frames over one stream each way.
import { strict as assert } from 'assert';
import { PassThrough } from 'stream';
import fc from 'fast-check';
import { createMessageConnection, RequestType } from 'vscode-jsonrpc/node';
import { packLines, packRecords, recordSpan, recordText, splitRecords } from '../../extension/formats/records';
import {
  decodeFrame,
  encodeFrame,
  Frame,
  FRAME_HEADER_BYTES,
  messageHeader,
  MessageSplitter,
} from '../../extension/formats/frames';
import { FramedMessageReader, FramedMessageWriter } from '../../extension/formats/framed-stream';

const RUNS = 300;

describe('records', () => {
  it('packs payloads 8-byte aligned and splits them back, for any payloads', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 70 }), { maxLength: 40 }), (payloads) => {
        const packed = packRecords(payloads);
        assert.equal(
          packed.length,
          payloads.reduce((n, p) => n + recordSpan(p.length), 0),
        );
        const index = splitRecords(packed);
        assert.equal(index.count, payloads.length);
        payloads.forEach((p, i) => {
          assert.equal(index.offsets[i] % 8, 4, 'payload follows a 4-byte length at an 8-byte boundary');
          assert.deepEqual(new Uint8Array(packed.subarray(index.offsets[i], index.offsets[i] + index.lengths[i])), p);
        });
      }),
      { numRuns: RUNS },
    );
    console.log(`      (${RUNS} cases)`);
  });

  it('packs text lines as UTF-8 records', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 50 }), { maxLength: 30 }), (lines) => {
        const packed = packLines(lines);
        const index = splitRecords(packed);
        assert.equal(index.count, lines.length);
        lines.forEach((l, i) => assert.equal(recordText(packed, index, i), Buffer.from(l, 'utf8').toString('utf8')));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses a record that runs past the batch, never reading beyond it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 64 }), (bytes) => {
        try {
          const index = splitRecords(bytes);
          for (let i = 0; i < index.count; i++) assert.ok(index.offsets[i] + index.lengths[i] <= bytes.length);
        } catch (error) {
          assert.match((error as Error).message, /cut short/);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('events' as const, 'lines' as const),
    subscription: fc.integer({ min: 1, max: 0xffffffff }),
    count: fc.nat({ max: 1000 }),
    lostInKernel: fc.nat(),
    droppedInHelper: fc.nat(),
    resynced: fc.nat({ max: 0xffffffff }),
    records: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  }),
  fc
    .record({
      token: fc.integer({ min: 1, max: 0x7fffffff }),
      count: fc.nat({ max: 20 }),
      keySize: fc.integer({ min: 1, max: 16 }),
      valueSize: fc.integer({ min: 1, max: 40 }),
    })
    .chain((h) =>
      fc
        .tuple(
          fc.uint8Array({ minLength: h.count * h.keySize, maxLength: h.count * h.keySize }),
          fc.uint8Array({ minLength: h.count * h.valueSize, maxLength: h.count * h.valueSize }),
        )
        .map(([k, v]) => ({ kind: 'mapPage' as const, ...h, keys: Buffer.from(k), values: Buffer.from(v) })),
    ),
);

describe('frames', () => {
  it('round-trips every kind of frame', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        const decoded = decodeFrame(Buffer.concat(encodeFrame(frame)));
        assert.deepEqual(decoded, { ...frame });
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses malformed frame bodies with an error, never a wrong frame', () => {
    fc.assert(
      fc.property(frameArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (frame, at, byte) => {
        const body = Buffer.concat(encodeFrame(frame));
        const position = at % FRAME_HEADER_BYTES;
        const mutated = Buffer.from(body);
        mutated[position] = byte;
        try {
          const decoded = decodeFrame(mutated);
          // A header byte that changed only a value (an id, a counter) still decodes consistently.
          assert.equal(Buffer.concat(encodeFrame(decoded)).length, mutated.length);
        } catch (error) {
          assert.match((error as Error).message, /frame|map page/);
        }
        assert.throws(() => decodeFrame(body.subarray(0, body.length - 1)));
      }),
      { numRuns: RUNS },
    );
  });

  it('splits a stream of JSON messages and frames however it is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            frameArb,
            fc.jsonValue().map((v) => ({ json: v })),
          ),
          { maxLength: 12 },
        ),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }),
        (messages, cuts) => {
          const parts: Buffer[] = [];
          for (const m of messages) {
            if ('json' in m) {
              const body = Buffer.from(JSON.stringify(m.json));
              parts.push(messageHeader(body.length, false), body);
            } else {
              const body = Buffer.concat(encodeFrame(m));
              parts.push(messageHeader(body.length, true), body);
            }
          }
          const stream = Buffer.concat(parts);
          const splitter = new MessageSplitter(1 << 20);
          const out = [];
          for (let at = 0, c = 0; at < stream.length; c++) {
            const n = cuts[c % cuts.length];
            out.push(...splitter.push(stream.subarray(at, at + n)));
            at += n;
          }
          assert.equal(out.length, messages.length);
          out.forEach((o, i) => {
            const m = messages[i];
            if ('json' in m) {
              assert.equal(o.binary, false);
              assert.deepEqual(JSON.parse(o.body.toString()), JSON.parse(JSON.stringify(m.json)));
            } else {
              assert.equal(o.binary, true);
              assert.deepEqual(decodeFrame(o.body), { ...m });
            }
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('refuses a message over the size limit before allocating it, and headers without a length', () => {
    assert.throws(() => new MessageSplitter(1000).push(messageHeader(1001, true)), /exceeds the limit of 1000/);
    assert.throws(
      () => new MessageSplitter(1000).push(Buffer.from('Content-Type: x\r\n\r\n')),
      /without Content-Length/,
    );
    assert.throws(
      () => new MessageSplitter(1000).push(Buffer.from('Content-Length: -5\r\n\r\n')),
      /bad Content-Length/,
    );
    assert.throws(() => new MessageSplitter(1000).push(Buffer.alloc(5000, 65)), /longer than 4096/);
  });
});

describe('framed JSON-RPC stream', () => {
  it('carries requests, answers and frames in order between two vscode-jsonrpc connections', async () => {
    const toServer = new PassThrough();
    const toClient = new PassThrough();
    const serverWriter = new FramedMessageWriter(toClient);
    const server = createMessageConnection(
      new FramedMessageReader(toServer, { maxMessageBytes: 1 << 20 }),
      serverWriter,
    );
    const frames: Frame[] = [];
    const client = createMessageConnection(
      new FramedMessageReader(toClient, { maxMessageBytes: 1 << 24, onFrame: (b) => frames.push(decodeFrame(b)) }),
      new FramedMessageWriter(toServer),
    );
    const page = new RequestType<{ n: number }, { frame: number; framesBefore: number }, void>('page');
    let token = 0;
    server.onRequest(page, ({ n }) => {
      token++;
      const keys = Buffer.alloc(n * 4);
      for (let i = 0; i < n; i++) keys.writeUInt32LE(i, i * 4);
      // The frame is written before the answer that names it.
      void serverWriter.writeFrame(
        encodeFrame({ kind: 'mapPage', token, count: n, keySize: 4, valueSize: 0, keys, values: Buffer.alloc(0) }),
      );
      return { frame: token, framesBefore: token };
    });
    server.listen();
    client.listen();
    try {
      for (const n of [0, 1, 1000, 300_000]) {
        const answer = await client.sendRequest(page, { n });
        const frame = frames.find((f) => f.kind === 'mapPage' && f.token === answer.frame);
        assert.ok(frame && frame.kind === 'mapPage', `frame ${answer.frame} arrived before its answer`);
        assert.equal(frame.count, n);
        if (n > 0) assert.equal(frame.keys.readUInt32LE((n - 1) * 4), n - 1);
      }
      assert.equal(frames.length, 4);
    } finally {
      client.dispose();
      server.dispose();
    }
  });
});

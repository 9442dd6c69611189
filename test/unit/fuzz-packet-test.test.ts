// Property tests of *.bpftest.json (issue 10): random JSON text and mutated sample files either parse or
// are refused with PacketTestFormatError, and what parses can be built, compared and described without
// any other error; packets built from valid header fields carry IPv4, TCP, UDP and ICMP checksums that
// verify the way a receiver checks them (the Internet checksum over the covered bytes is 0).
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import {
  buildPacket,
  comparePacketRun,
  describeKey,
  internetChecksum,
  objectFor,
  packetBytes,
  PacketFields,
  PacketTestFile,
  PacketTestFileSchema,
  PacketTestFormatError,
  parsePacketTestFile,
  specBytes,
  testLines,
} from '../../extension/formats/packet-test';
import { fuzz, mutatedText } from '../support/fuzz';

const samples = path.join(__dirname, '..', '..', 'bpf-samples');
const sampleTexts = ['xdp_counter', 'tc_blocklist'].map((s) =>
  fs.readFileSync(path.join(samples, s, `${s}.bpftest.json`), 'utf8'),
);

/** Every path (keys and indices) inside a JSON value. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

/** A sample file with one value replaced by random JSON (or removed), then printed: past JSON.parse, into
 * the schema, where the interesting refusals are. */
const jsonMutated = fc
  .tuple(
    fc.constantFrom(...sampleTexts),
    fc.array(fc.tuple(fc.nat(), fc.option(fc.jsonValue({ maxDepth: 3 }))), { minLength: 1, maxLength: 4 }),
  )
  .map(([text, edits]) => {
    const root = { value: JSON.parse(text) as unknown };
    for (const [pick, replacement] of edits) {
      const all = paths(root.value);
      const target = all[pick % all.length];
      if (target.length === 0) {
        root.value = replacement;
        continue;
      }
      let parent = root.value as Record<string | number, unknown>;
      for (const key of target.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
      const last = target[target.length - 1];
      if (replacement === null && !Array.isArray(parent)) delete parent[last];
      else parent[last] = replacement;
    }
    return JSON.stringify(root.value, null, 2);
  });

const anyText = fc.oneof(
  { weight: 3, arbitrary: jsonMutated },
  { weight: 2, arbitrary: mutatedText(sampleTexts) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
);

/** Uses a parsed file the way the packet-tests feature does; only PacketTestFormatError may come out. */
function useParsed(
  file: PacketTestFile,
  text: string,
  outcome: { retval: number; out: Buffer; map: Buffer | null },
): void {
  for (const entry of file.setup) {
    specBytes(entry.key);
    specBytes(entry.value);
    describeKey(entry.map, entry.key);
  }
  for (const test of file.tests) {
    packetBytes(test.packet);
    for (const e of test.setup) {
      specBytes(e.key);
      specBytes(e.value);
    }
    const verdict = comparePacketRun(
      test,
      {
        retval: outcome.retval,
        packetOut: outcome.out,
        maps: test.expect.maps.map((expectation) => ({ expectation, before: null, after: outcome.map })),
      },
      'xdp',
    );
    assert.equal(verdict.passed, verdict.mismatches.length === 0);
  }
  assert.equal(typeof objectFor('/w/x.bpftest.json', file), 'string');
  assert.ok(testLines(text).length >= 0);
}

// ---- valid header fields ---------------------------------------------------------------------------

const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const ipv6 = fc
  .tuple(
    fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
    fc.nat({ max: 8 }),
    fc.nat({ max: 8 }),
  )
  .map(([groups, from, span]) => {
    const hex = groups.map((g) => g.toString(16));
    // Sometimes zero a run of groups and write it as "::", as RFC 5952 does.
    const to = Math.min(8, from + span);
    if (span < 2 || from >= 8) return hex.join(':');
    return `${hex.slice(0, from).join(':')}::${hex.slice(to).join(':')}`;
  });
const mac = fc
  .array(octet, { minLength: 6, maxLength: 6 })
  .map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':'));
const port = fc.integer({ min: 0, max: 65535 });
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('hex')),
  fc.record({ text: fc.string({ maxLength: 100 }) }),
  fc.record({ zeros: fc.oneof(fc.nat({ max: 2000 }), fc.integer({ min: 65400, max: 65535 })) }),
);
const rawPacket = fc.record(
  {
    eth: fc.record({ src: mac, dst: mac }, { requiredKeys: [] }),
    l3: fc.oneof(
      fc.record({ ipv4: fc.record({ src: ipv4, dst: ipv4, ttl: octet }, { requiredKeys: ['src', 'dst'] }) }),
      fc.record({ ipv6: fc.record({ src: ipv6, dst: ipv6, hopLimit: octet }, { requiredKeys: ['src', 'dst'] }) }),
    ),
    l4: fc.oneof(
      fc.constant({}),
      fc.record({
        tcp: fc.record(
          {
            sport: port,
            dport: port,
            seq: fc.integer({ min: 0, max: 0xffffffff }),
            flags: fc.subarray(['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG']),
            window: port,
          },
          { requiredKeys: ['sport', 'dport'] },
        ),
      }),
      fc.record({ udp: fc.record({ sport: port, dport: port }) }),
      fc.record({ icmp: fc.record({ type: octet, code: octet }, { requiredKeys: [] }) }),
    ),
    payload,
  },
  { requiredKeys: ['l3', 'l4'] },
);

const mapName = fc.stringMatching(/^[A-Za-z_]\w{0,15}$/);
const bytesSpec = fc.oneof(
  fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')),
  fc.record({ u8: octet }),
  fc.record({ u16: port }),
  fc.record({ u16be: port }),
  fc.record({ u32: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ u32be: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({
    u64: fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 1n << 66n }).map(String), fc.double({ min: 0, max: 2 ** 66 })),
  }),
);
/** Files as a user writes them: valid-looking, with edge values (big u64, truncation, protocol overrides). */
const validFile = fc
  .record({
    program: fc.stringMatching(/^[A-Za-z_]\w{0,15}$/),
    setup: fc.array(fc.record({ map: mapName, key: bytesSpec, value: bytesSpec }), { maxLength: 3 }),
    tests: fc.uniqueArray(
      fc.record({
        name: fc.string({ minLength: 1, maxLength: 20 }),
        packet: fc.oneof(
          fc.uint8Array({ maxLength: 80 }).map((b) => ({ hex: Buffer.from(b).toString('hex') })),
          fc
            .tuple(rawPacket, fc.option(fc.nat({ max: 100 })), fc.option(octet))
            .map(([{ l3, l4, ...rest }, truncate, protocol]) => ({
              ...rest,
              ...(protocol === null || !('ipv4' in (l3 as object))
                ? l3
                : { ipv4: { ...(l3 as { ipv4: object }).ipv4, protocol } }),
              ...l4,
              ...(truncate === null ? {} : { truncate: truncate + 1 }),
            })),
        ),
        repeat: fc.integer({ min: 1, max: 1000 }),
        expect: fc.record(
          {
            verdict: fc.oneof(fc.constantFrom('XDP_PASS', 'XDP_DROP', 'TC_ACT_SHOT', 'TC_ACT_UNSPEC'), fc.integer()),
            bytes: fc.array(
              fc.record({
                offset: fc.nat({ max: 100 }),
                hex: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b).toString('hex')),
              }),
              { maxLength: 2 },
            ),
            maps: fc.array(
              fc.oneof(
                fc.record({ map: mapName, key: bytesSpec, value: bytesSpec }),
                fc.record({
                  map: mapName,
                  key: bytesSpec,
                  increase: fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
                }),
              ),
              { maxLength: 2 },
            ),
          },
          { requiredKeys: [] },
        ),
      }),
      { selector: (t) => t.name, minLength: 1, maxLength: 3 },
    ),
  })
  .map((f) => JSON.stringify(f, null, 2));

/** The header fields after the schema (defaults filled in), as buildPacket gets them. */
function fieldsOf(raw: { l3: object; l4: object }): PacketFields {
  const { l3, l4, ...rest } = raw;
  const file = PacketTestFileSchema.parse({
    program: 'p',
    tests: [{ name: 't', packet: { ...rest, ...l3, ...l4 }, expect: {} }],
  });
  return file.tests[0].packet as PacketFields;
}

describe('fuzz: packet test files', () => {
  it('random and mutated files parse or are refused with PacketTestFormatError naming a line of the file', () => {
    let refused = 0;
    const cases = fuzz(
      anyText,
      (text) => {
        try {
          parsePacketTestFile(text, 'x.bpftest.json');
        } catch (error) {
          assert.ok(error instanceof PacketTestFormatError, `only PacketTestFormatError, got ${error}`);
          assert.ok(error.message.startsWith('x.bpftest.json'));
          if (error.line !== undefined) assert.ok(error.line >= 0 && error.line < text.split('\n').length);
          refused++;
        }
      },
      { runs: 1500 },
    );
    console.log(`      ${refused} of ${cases} refused with PacketTestFormatError`);
  });

  it('what parses builds, compares and describes with no error but PacketTestFormatError', () => {
    let parsed = 0;
    fuzz(
      fc.tuple(
        fc.oneof(validFile, anyText),
        fc.integer(),
        fc.uint8Array({ maxLength: 100 }),
        fc.option(fc.uint8Array({ maxLength: 40 })),
      ),
      ([text, retval, out, map]) => {
        let file: PacketTestFile;
        try {
          file = parsePacketTestFile(text);
        } catch {
          return;
        }
        parsed++;
        try {
          useParsed(file, text, { retval, out: Buffer.from(out), map: map && Buffer.from(map) });
        } catch (error) {
          assert.ok(error instanceof PacketTestFormatError, `only PacketTestFormatError, got ${error}`);
        }
      },
      { runs: 1500 },
    );
    assert.ok(parsed > 0, 'some mutated files still parse');
    console.log(`      ${parsed} parsed files used`);
  });

  it('valid header fields build a frame whose lengths and checksums verify', () => {
    fuzz(
      rawPacket,
      (raw) => {
        const fields = fieldsOf(raw);
        let frame: Buffer;
        try {
          frame = buildPacket(fields);
        } catch (error) {
          // Only a payload too big for the IP length field is refused.
          assert.ok(error instanceof PacketTestFormatError, `only PacketTestFormatError, got ${error}`);
          assert.match(error.message, /at most/);
          return;
        }
        const etherType = frame.readUInt16BE(12);
        let segment: Buffer;
        let pseudo: Buffer;
        let protocol: number;
        if (fields.ipv4) {
          assert.equal(etherType, 0x0800);
          const header = frame.subarray(14, 34);
          assert.equal(internetChecksum(header), 0, 'IPv4 header checksum');
          assert.equal(header.readUInt16BE(2), frame.length - 14, 'IPv4 total length');
          protocol = header[9];
          segment = frame.subarray(34);
          pseudo = Buffer.concat([header.subarray(12, 20), Buffer.from([0, protocol]), Buffer.alloc(2)]);
          pseudo.writeUInt16BE(segment.length, 10);
        } else {
          assert.equal(etherType, 0x86dd);
          const header = frame.subarray(14, 54);
          assert.equal(header.readUInt16BE(4), frame.length - 54, 'IPv6 payload length');
          protocol = header[6];
          segment = frame.subarray(54);
          pseudo = Buffer.concat([header.subarray(8, 40), Buffer.alloc(8)]);
          pseudo.writeUInt32BE(segment.length, 32);
          pseudo[39] = protocol;
        }
        if (fields.tcp) {
          assert.equal(protocol, 6);
          assert.equal(internetChecksum(pseudo, segment), 0, 'TCP checksum');
        } else if (fields.udp) {
          assert.equal(protocol, 17);
          assert.equal(segment.readUInt16BE(4), segment.length, 'UDP length');
          assert.notEqual(segment.readUInt16BE(6), 0, 'a computed UDP checksum is never sent as 0');
          assert.equal(internetChecksum(pseudo, segment), 0, 'UDP checksum');
        } else if (fields.icmp) {
          assert.equal(protocol, fields.ipv6 ? 58 : 1);
          // ICMPv6 covers the pseudo-header; ICMP for IPv4 does not.
          assert.equal(internetChecksum(...(fields.ipv6 ? [pseudo, segment] : [segment])), 0, 'ICMP checksum');
        }
      },
      { runs: 1500 },
    );
  });
});

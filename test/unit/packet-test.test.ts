// The packet test format without a kernel: parsing with errors that name field and line, packets built
// from fields with correct lengths and checksums, and comparisons that read as a diff.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  buildPacket,
  comparePacketRun,
  hexDump,
  internetChecksum,
  objectFor,
  packetBytes,
  PacketTestFormatError,
  parsePacketTestFile,
  specBytes,
  testLines,
  verdictName,
} from '../../extension/formats/packet-test';

const samples = path.join(__dirname, '..', '..', 'bpf-samples');

function formatError(text: string): PacketTestFormatError {
  try {
    parsePacketTestFile(text, 'x.bpftest.json');
  } catch (error) {
    assert.ok(error instanceof PacketTestFormatError, String(error));
    return error;
  }
  assert.fail('expected a format error');
}

describe('packet test files', () => {
  it("parses the samples' files, with defaults filled in", () => {
    for (const sample of ['xdp_counter', 'tc_blocklist']) {
      const file = path.join(samples, sample, `${sample}.bpftest.json`);
      const parsed = parsePacketTestFile(fs.readFileSync(file, 'utf8'), file);
      assert.ok(parsed.tests.length >= 4);
      assert.equal(objectFor(file, parsed), path.join(samples, sample, `${sample}.bpf.c`));
      for (const t of parsed.tests) assert.equal(t.repeat, 1);
    }
  });

  it('says where JSON is broken', () => {
    const error = formatError('{\n  "program": "p",\n  "tests": [\n    { "name": "a", }\n  ]\n}');
    assert.match(error.message, /^x\.bpftest\.json:4: not valid JSON/);
    assert.equal(error.line, 3);
  });

  it('names the field, the test and the line of a bad value', () => {
    const text = JSON.stringify(
      {
        program: 'p',
        tests: [
          { name: 'first', packet: { hex: '00' }, expect: {} },
          { name: 'second', packet: { eth: { src: 'nope' } }, expect: {} },
        ],
      },
      null,
      2,
    );
    const error = formatError(text);
    assert.match(error.message, /tests\[1\]\.packet/);
    assert.match(error.message, /\(test "second"\)/);
    assert.match(error.message, /MAC address|hex/);
    assert.ok(error.line !== undefined && error.line > 10, `line ${error.line}`);
  });

  it('refuses unknown fields, impossible verdicts and contradictory packets', () => {
    assert.match(
      formatError('{"program":"p","tests":[{"name":"a","packet":{"hex":"00"},"expect":{"verdit":"XDP_PASS"}}]}')
        .message,
      /unknown field\(s\) "verdit"/,
    );
    assert.match(
      formatError('{"program":"p","tests":[{"name":"a","packet":{"hex":"00"},"expect":{"verdict":"XDP_MAYBE"}}]}')
        .message,
      /expect\.verdict/,
    );
    assert.match(
      formatError(
        '{"program":"p","tests":[{"name":"a","packet":{"ipv4":{"src":"1.1.1.1","dst":"1.1.1.2"},"ipv6":{"src":"::1","dst":"::2"}},"expect":{}}]}',
      ).message,
      /ipv4 or ipv6, not both/,
    );
    assert.match(
      formatError('{"program":"p","tests":[{"name":"a","packet":{"udp":{"sport":1,"dport":2}},"expect":{}}]}').message,
      /need an ipv4 or ipv6 header/,
    );
    assert.match(
      formatError(
        '{"program":"p","tests":[{"name":"a","packet":{"hex":"00"},"expect":{"maps":[{"map":"m","key":"00"}]}}]}',
      ).message,
      /give either "value" or "increase"/,
    );
    assert.match(formatError('{"program":"p","tests":[]}').message, /needs at least one test/);
    assert.match(
      formatError(
        '{"program":"p","tests":[{"name":"a","packet":{"hex":"00"},"expect":{}},{"name":"a","packet":{"hex":"00"},"expect":{}}]}',
      ).message,
      /tests\[1\]\.name \(test "a"\): a second test is named "a"/,
    );
    assert.match(
      formatError('{"program":"p","tests":[{"name":"a","packet":{"hex":"0g"},"expect":{}}]}').message,
      /hex bytes/,
    );
  });

  it('finds the line of each test for Test Explorer', () => {
    assert.deepEqual(testLines('{\n "tests": [\n  {"name": "a"},\n\n  {"name": "b"}\n ]\n}'), [2, 4]);
  });
});

describe('packet building', () => {
  it('builds IPv4/UDP with lengths and valid checksums', () => {
    const frame = buildPacket({
      eth: { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' },
      ipv4: { src: '10.0.0.1', dst: '10.0.0.2', ttl: 64 },
      udp: { sport: 40000, dport: 53 },
      payload: { text: 'hi' },
    });
    assert.equal(frame.length, 14 + 20 + 8 + 2);
    assert.equal(frame.readUInt16BE(12), 0x0800);
    const ip = frame.subarray(14, 34);
    assert.equal(ip.readUInt16BE(2), 30, 'IPv4 total length');
    assert.equal(ip[9], 17);
    assert.equal(internetChecksum(ip), 0, 'a header with its checksum sums to zero');
    const udp = frame.subarray(34);
    assert.equal(udp.readUInt16BE(4), 10, 'UDP length');
    const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, 17, 0, 10])]);
    assert.equal(internetChecksum(pseudo, udp), 0, 'the UDP checksum covers the pseudo header');
  });

  it('builds IPv6/TCP and ICMP, and truncates on request', () => {
    const v6 = buildPacket({
      eth: { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' },
      ipv6: { src: 'fd00::1', dst: 'fd00::2', hopLimit: 64 },
      tcp: { sport: 1, dport: 443, seq: 0, flags: ['SYN', 'ACK'], window: 65535 },
    });
    assert.equal(v6.length, 14 + 40 + 20);
    assert.equal(v6.readUInt16BE(12), 0x86dd);
    assert.equal(v6[14 + 6], 6);
    assert.equal(v6.subarray(14 + 24, 14 + 40).toString('hex'), 'fd000000000000000000000000000002');
    assert.equal(v6[14 + 40 + 13], 0x12, 'SYN|ACK');
    const pseudo = Buffer.concat([v6.subarray(22, 54), Buffer.from([0, 0, 0, 20, 0, 0, 0, 6])]);
    assert.equal(internetChecksum(pseudo, v6.subarray(54)), 0);

    const ping = buildPacket({
      eth: { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' },
      ipv4: { src: '10.0.0.1', dst: '10.0.0.2', ttl: 1 },
      icmp: { type: 8, code: 0 },
    });
    assert.equal(ping[14 + 9], 1);
    assert.equal(internetChecksum(ping.subarray(34)), 0);
    assert.equal(
      packetBytes({
        eth: { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' },
        ipv4: { src: '10.0.0.1', dst: '10.0.0.2', ttl: 1 },
        truncate: 20,
      }).length,
      20,
    );
    assert.equal(packetBytes({ hex: '0a0b' }).toString('hex'), '0a0b');
  });

  it('encodes typed keys little endian (network order on request)', () => {
    assert.equal(specBytes({ u16: 9999 }).toString('hex'), '0f27');
    assert.equal(specBytes({ u16be: 9999 }).toString('hex'), '270f');
    assert.equal(specBytes({ u32: 17 }).toString('hex'), '11000000');
    assert.equal(specBytes({ u64: '1' }).toString('hex'), '0100000000000000');
  });
});

describe('packet test comparison', () => {
  const file = parsePacketTestFile(
    JSON.stringify({
      program: 'p',
      tests: [
        {
          name: 't',
          packet: { hex: '00112233' },
          expect: {
            verdict: 'TC_ACT_SHOT',
            packet: { hex: '00112244' },
            maps: [
              { map: 'counts', key: { u32: 1 }, increase: [1, 100] },
              { map: 'ports', key: { u16: 80 }, value: { u64: 3 } },
            ],
          },
        },
      ],
    }),
  );
  const perCpu = (cpus: [number, number][]) =>
    Buffer.concat(
      cpus.map(([a, b]) => {
        const b16 = Buffer.alloc(16);
        b16.writeBigUInt64LE(BigInt(a));
        b16.writeBigUInt64LE(BigInt(b), 8);
        return b16;
      }),
    );

  it('passes when everything matches, summing per-CPU values', () => {
    const verdict = comparePacketRun(
      file.tests[0],
      {
        retval: 2,
        packetOut: Buffer.from('00112244', 'hex'),
        maps: [
          {
            expectation: file.tests[0].expect.maps[0],
            before: perCpu([
              [5, 500],
              [1, 10],
            ]),
            after: perCpu([
              [5, 500],
              [2, 110],
            ]),
            perCpuSlot: 16,
          },
          { expectation: file.tests[0].expect.maps[1], before: null, after: specBytes({ u64: 3 }) },
        ],
      },
      'sched_cls',
    );
    assert.deepEqual(verdict, { passed: true, mismatches: [], diff: '' });
  });

  it('reports each difference with expected and actual, readable', () => {
    const verdict = comparePacketRun(
      file.tests[0],
      {
        retval: 0,
        packetOut: Buffer.from('00112233', 'hex'),
        maps: [
          { expectation: file.tests[0].expect.maps[0], before: null, after: null, perCpuSlot: 16 },
          { expectation: file.tests[0].expect.maps[1], before: null, after: null },
        ],
      },
      'sched_cls',
    );
    assert.equal(verdict.passed, false);
    assert.equal(
      verdict.diff,
      [
        'verdict: expected TC_ACT_SHOT (2), got TC_ACT_OK (0)',
        'packet (4 bytes expected, 4 came out):\n  expected:\n    0000  00 11 22 44\n  actual:\n    0000  00 11 22 33\n                   ^^',
        'map counts[1]: increase of its __u64 fields (no entry after the run): expected [+1, +100], got [+0, +0]',
        'map ports[80]: expected 03 00 00 00 00 00 00 00, got (no entry)',
      ].join('\n\n'),
    );
  });

  it('names verdicts by program type', () => {
    assert.equal(verdictName(2, 'XDP'), 'XDP_PASS (2)');
    assert.equal(verdictName(2, 'TC'), 'TC_ACT_SHOT (2)');
    assert.equal(verdictName(-1, 'TC'), 'TC_ACT_UNSPEC (-1)');
    assert.equal(verdictName(60, undefined), '60');
    assert.match(hexDump(Buffer.alloc(20)), /^0000 {2}(00 ){15}00\n0010 {2}00 00 00 00$/);
  });
});

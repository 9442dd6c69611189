// Packet tests for XDP, tc and socket programs: the *.bpftest.json format (parsed with errors that name
// the field and the line), packets built from header fields with real checksums, verdict names, and the
// comparison of what BPF_PROG_TEST_RUN returned with what the test expected, as a readable diff.
// Pure: no vscode, no helper; the runner (packet-test-run.ts) does the kernel part.
import { z } from 'zod';

// ---- verdicts -------------------------------------------------------------------------------------

/** Return codes by name: XDP actions and tc actions (linux/bpf.h, linux/pkt_cls.h). */
export const VERDICTS: Record<string, number> = {
  XDP_ABORTED: 0,
  XDP_DROP: 1,
  XDP_PASS: 2,
  XDP_TX: 3,
  XDP_REDIRECT: 4,
  TC_ACT_UNSPEC: -1,
  TC_ACT_OK: 0,
  TC_ACT_RECLASSIFY: 1,
  TC_ACT_SHOT: 2,
  TC_ACT_PIPE: 3,
  TC_ACT_STOLEN: 4,
  TC_ACT_QUEUED: 5,
  TC_ACT_REPEAT: 6,
  TC_ACT_REDIRECT: 7,
};

/** Which verdict family a program type answers with, to name a return value in a diff. */
export function verdictFamily(programType: string): 'XDP' | 'TC' | undefined {
  if (programType === 'xdp') return 'XDP';
  if (programType === 'sched_cls' || programType === 'sched_act') return 'TC';
  return undefined;
}

/** "XDP_PASS (2)", or the bare number for socket filters (bytes kept) and unknown codes. */
export function verdictName(retval: number, family: 'XDP' | 'TC' | undefined): string {
  const name = family
    ? Object.entries(VERDICTS).find(([n, v]) => n.startsWith(`${family}_`) && v === retval)?.[0]
    : undefined;
  return name ? `${name} (${retval})` : String(retval);
}

// ---- the file format ------------------------------------------------------------------------------

const hex = z
  .string()
  .transform((s) => s.replace(/[\s:]/g, '').toLowerCase())
  .refine((s) => /^([0-9a-f]{2})*$/.test(s), {
    message: 'must be hex bytes (spaces and colons allowed), e.g. "0a 00 00 01"',
  });
const port = z.number().int().min(0).max(65535);
const mac = z.string().regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, 'must be a MAC address like 02:00:00:00:00:01');
const ipv4Address = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, 'must be an IPv4 address like 10.0.0.1');
const ipv6Address = z
  .string()
  .refine((s) => parseIpv6(s) !== undefined, { message: 'must be an IPv6 address like fd00::1' });

/** A number of a given width: {"u32": 17}; little endian, "be" suffix for network order. */
const typedNumber = z.union([
  z.object({ u8: z.number().int().min(0).max(0xff) }).strict(),
  z.object({ u16: port }).strict(),
  z.object({ u16be: port }).strict(),
  z.object({ u32: z.number().int().min(0).max(0xffffffff) }).strict(),
  z.object({ u32be: z.number().int().min(0).max(0xffffffff) }).strict(),
  z.object({ u64: z.union([z.number().int().min(0), z.string().regex(/^\d+$/)]) }).strict(),
]);
/** Map keys and values: hex bytes, or one typed number. */
const bytesSpec = z.union([hex, typedNumber]);

const payload = z.union([
  hex,
  z.object({ text: z.string() }).strict(),
  z.object({ zeros: z.number().int().min(0).max(65535) }).strict(),
]);

const packetFields = z
  .object({
    eth: z
      .object({
        src: mac.default('02:00:00:00:00:01'),
        dst: mac.default('02:00:00:00:00:02'),
        type: z.number().int().min(0).max(0xffff).optional(),
      })
      .strict()
      .default({}),
    ipv4: z
      .object({
        src: ipv4Address,
        dst: ipv4Address,
        ttl: z.number().int().min(0).max(255).default(64),
        protocol: z.number().int().min(0).max(255).optional(),
      })
      .strict()
      .optional(),
    ipv6: z
      .object({
        src: ipv6Address,
        dst: ipv6Address,
        hopLimit: z.number().int().min(0).max(255).default(64),
        nextHeader: z.number().int().min(0).max(255).optional(),
      })
      .strict()
      .optional(),
    tcp: z
      .object({
        sport: port,
        dport: port,
        seq: z.number().int().min(0).max(0xffffffff).default(0),
        flags: z.array(z.enum(['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'])).default(['SYN']),
        window: port.default(65535),
      })
      .strict()
      .optional(),
    udp: z.object({ sport: port, dport: port }).strict().optional(),
    icmp: z
      .object({ type: z.number().int().min(0).max(255).default(8), code: z.number().int().min(0).max(255).default(0) })
      .strict()
      .optional(),
    payload: payload.optional(),
    /** Cut the built frame to this many bytes (malformed packets). */
    truncate: z.number().int().min(1).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.ipv4 && p.ipv6) ctx.addIssue({ code: 'custom', message: 'a packet has ipv4 or ipv6, not both' });
    const l4 = [p.tcp, p.udp, p.icmp].filter(Boolean).length;
    if (l4 > 1) ctx.addIssue({ code: 'custom', message: 'a packet has at most one of tcp, udp, icmp' });
    if (l4 > 0 && !p.ipv4 && !p.ipv6)
      ctx.addIssue({ code: 'custom', message: 'tcp, udp and icmp need an ipv4 or ipv6 header' });
  });
export type PacketFields = z.infer<typeof packetFields>;

const packet = z.union([z.object({ hex }).strict(), packetFields]);

const mapEntry = z
  .object({ map: z.string().regex(/^[A-Za-z_]\w*$/, 'must be a map name'), key: bytesSpec, value: bytesSpec })
  .strict();

const mapExpectation = z
  .object({
    map: z.string().regex(/^[A-Za-z_]\w*$/, 'must be a map name'),
    key: bytesSpec,
    /** The value after the run, exactly (hex or a typed number). */
    value: bytesSpec.optional(),
    /** How much each __u64 field of the value grew (per-CPU maps: summed over CPUs). */
    increase: z.array(z.number().int()).min(1).optional(),
  })
  .strict()
  .refine((m) => (m.value === undefined) !== (m.increase === undefined), {
    message: 'give either "value" or "increase"',
  });

const testCase = z
  .object({
    name: z.string().min(1),
    packet,
    /** Map entries written before this test's run. */
    setup: z.array(mapEntry).default([]),
    repeat: z.number().int().min(1).max(1_000_000).default(1),
    expect: z
      .object({
        verdict: z.union([z.enum(Object.keys(VERDICTS) as [string, ...string[]]), z.number().int()]).optional(),
        /** The whole packet afterwards. */
        packet: packet.optional(),
        /** Bytes at offsets afterwards (rewritten headers). */
        bytes: z.array(z.object({ offset: z.number().int().min(0), hex }).strict()).optional(),
        maps: z.array(mapExpectation).default([]),
      })
      .strict(),
  })
  .strict();

export const PacketTestFileSchema = z
  .object({
    $schema: z.string().optional(),
    /** The BPF source or object, relative to this file; default: <name>.bpf.c for <name>.bpftest.json. */
    object: z.string().optional(),
    program: z.string().regex(/^[A-Za-z_]\w*$/, 'must be a program (function) name'),
    /** Map entries written once after the load, before any test. */
    setup: z.array(mapEntry).default([]),
    tests: z
      .array(testCase)
      .min(1, 'needs at least one test')
      .superRefine((tests, ctx) => {
        // Names identify tests in the Test Explorer: two alike could not be told apart.
        const seen = new Set<string>();
        tests.forEach((t, i) => {
          if (seen.has(t.name))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `a second test is named "${t.name}": names must be unique`,
            });
          seen.add(t.name);
        });
      }),
  })
  .strict();
export type PacketTestFile = z.infer<typeof PacketTestFileSchema>;
export type PacketTestCase = PacketTestFile['tests'][number];
export type MapExpectation = PacketTestCase['expect']['maps'][number];
export type BytesSpec = z.infer<typeof bytesSpec>;

export class PacketTestFormatError extends Error {
  constructor(
    message: string,
    /** 0-based line of the offending field in the file, when it can be found. */
    readonly line: number | undefined,
  ) {
    super(message);
    this.name = 'PacketTestFormatError';
  }
}

/** Parses a *.bpftest.json text; throws PacketTestFormatError naming the field, the problem and the line. */
export function parsePacketTestFile(text: string, fileName = 'the packet test file'): PacketTestFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    const line = at ? text.slice(0, Number(at[1])).split('\n').length - 1 : undefined;
    throw new PacketTestFormatError(
      `${fileName}${line === undefined ? '' : `:${line + 1}`}: not valid JSON: ${message}`,
      line,
    );
  }
  const parsed = PacketTestFileSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where =
    issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
      .join('')
      .replace(/^\./, '') || '(top level)';
  const line = lineOfPath(text, issue.path);
  const testName =
    issue.path[0] === 'tests' && typeof issue.path[1] === 'number'
      ? (raw as { tests: { name?: unknown }[] }).tests[issue.path[1]]?.name
      : undefined;
  const inTest = typeof testName === 'string' ? ` (test "${testName}")` : '';
  const detail =
    issue.code === 'unrecognized_keys'
      ? `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : issue.message;
  throw new PacketTestFormatError(
    `${fileName}${line === undefined ? '' : `:${line + 1}`}: ${where}${inTest}: ${detail}`,
    line,
  );
}

/** The line where a JSON path's last key appears (a good-enough search, used for error positions). */
export function lineOfPath(text: string, path: (string | number)[]): number | undefined {
  let from = 0;
  for (const part of path) {
    if (typeof part === 'number') {
      // Skip to the n-th element: count '{' at the nesting level is overkill; look for the n-th "name"
      // of tests, else stay put.
      const names = [...text.slice(from).matchAll(/"name"\s*:/g)];
      if (names[part]) from += names[part].index!;
      continue;
    }
    const at = text.indexOf(`"${part}"`, from);
    if (at >= 0) from = at;
  }
  return from > 0 ? text.slice(0, from).split('\n').length - 1 : undefined;
}

/** The 0-based line of each test's "name", for Test Explorer ranges. */
export function testLines(text: string): number[] {
  return [...text.matchAll(/"name"\s*:/g)].map((m) => text.slice(0, m.index!).split('\n').length - 1);
}

// ---- bytes ----------------------------------------------------------------------------------------

export function specBytes(spec: BytesSpec): Buffer {
  if (typeof spec === 'string') return Buffer.from(spec, 'hex');
  if ('u8' in spec) return Buffer.from([spec.u8]);
  const b = Buffer.alloc('u64' in spec ? 8 : 'u32' in spec || 'u32be' in spec ? 4 : 2);
  if ('u16' in spec) b.writeUInt16LE(spec.u16);
  else if ('u16be' in spec) b.writeUInt16BE(spec.u16be);
  else if ('u32' in spec) b.writeUInt32LE(spec.u32);
  else if ('u32be' in spec) b.writeUInt32BE(spec.u32be);
  else b.writeBigUInt64LE(BigInt(spec.u64));
  return b;
}

/** A readable name for a key: "counters[17]" for typed numbers, "counters[0x1100]" for hex. */
export function describeKey(map: string, spec: BytesSpec): string {
  if (typeof spec === 'string') return `${map}[0x${spec}]`;
  return `${map}[${Object.values(spec)[0]}]`;
}

// ---- packet building ------------------------------------------------------------------------------

function parseIpv6(text: string): Buffer | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return undefined;
  const all = [...head, ...new Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const b = Buffer.alloc(16);
  all.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

function ipv4Bytes(text: string): Buffer {
  const parts = text.split('.').map(Number);
  if (parts.some((p) => p > 255)) throw new PacketTestFormatError(`${text} is not an IPv4 address`, undefined);
  return Buffer.from(parts);
}

function macBytes(text: string): Buffer {
  return Buffer.from(text.replace(/:/g, ''), 'hex');
}

/** The Internet checksum (RFC 1071) over the given buffers. */
export function internetChecksum(...parts: Buffer[]): number {
  let sum = 0;
  const data = Buffer.concat(parts);
  for (let i = 0; i < data.length; i += 2) sum += (data[i] << 8) + (i + 1 < data.length ? data[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function payloadBytes(p: PacketFields['payload']): Buffer {
  if (p === undefined) return Buffer.alloc(0);
  if (typeof p === 'string') return Buffer.from(p, 'hex');
  if ('text' in p) return Buffer.from(p.text, 'utf8');
  return Buffer.alloc(p.zeros);
}

const TCP_FLAGS = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32 } as const;

/** Builds an Ethernet frame from header fields, with lengths and checksums filled in. */
export function buildPacket(fields: PacketFields): Buffer {
  const data = payloadBytes(fields.payload);
  let l4 = Buffer.alloc(0);
  let protocol: number | undefined;
  if (fields.udp) {
    protocol = 17;
    l4 = Buffer.alloc(8);
    l4.writeUInt16BE(fields.udp.sport, 0);
    l4.writeUInt16BE(fields.udp.dport, 2);
    l4.writeUInt16BE(8 + data.length, 4);
  } else if (fields.tcp) {
    protocol = 6;
    l4 = Buffer.alloc(20);
    l4.writeUInt16BE(fields.tcp.sport, 0);
    l4.writeUInt16BE(fields.tcp.dport, 2);
    l4.writeUInt32BE(fields.tcp.seq, 4);
    l4[12] = 5 << 4;
    l4[13] = fields.tcp.flags.reduce((f, name) => f | TCP_FLAGS[name], 0);
    l4.writeUInt16BE(fields.tcp.window, 14);
  } else if (fields.icmp) {
    protocol = fields.ipv6 ? 58 : 1;
    l4 = Buffer.alloc(8);
    l4[0] = fields.ipv6 && fields.icmp.type === 8 ? 128 : fields.icmp.type;
    l4[1] = fields.icmp.code;
  }
  const segment = Buffer.concat([l4, data]);
  let l3 = Buffer.alloc(0);
  let etherType = fields.eth.type;
  if (fields.ipv4) {
    etherType ??= 0x0800;
    protocol = fields.ipv4.protocol ?? protocol ?? 0;
    l3 = Buffer.alloc(20);
    l3[0] = 0x45;
    l3.writeUInt16BE(20 + segment.length, 2);
    l3[8] = fields.ipv4.ttl;
    l3[9] = protocol;
    ipv4Bytes(fields.ipv4.src).copy(l3, 12);
    ipv4Bytes(fields.ipv4.dst).copy(l3, 16);
    l3.writeUInt16BE(internetChecksum(l3), 10);
    const pseudo = Buffer.alloc(12);
    l3.copy(pseudo, 0, 12, 20);
    pseudo[9] = protocol;
    pseudo.writeUInt16BE(segment.length, 10);
    fillChecksum(segment, protocol, protocol === 1 ? [] : [pseudo]);
  } else if (fields.ipv6) {
    etherType ??= 0x86dd;
    protocol = fields.ipv6.nextHeader ?? protocol ?? 59;
    l3 = Buffer.alloc(40);
    l3[0] = 0x60;
    l3.writeUInt16BE(segment.length, 4);
    l3[6] = protocol;
    l3[7] = fields.ipv6.hopLimit;
    parseIpv6(fields.ipv6.src)!.copy(l3, 8);
    parseIpv6(fields.ipv6.dst)!.copy(l3, 24);
    const pseudo = Buffer.alloc(40);
    l3.copy(pseudo, 0, 8, 40);
    pseudo.writeUInt32BE(segment.length, 32);
    pseudo[39] = protocol;
    fillChecksum(segment, protocol, [pseudo]);
  }
  const eth = Buffer.alloc(14);
  macBytes(fields.eth.dst).copy(eth, 0);
  macBytes(fields.eth.src).copy(eth, 6);
  eth.writeUInt16BE(etherType ?? 0x0800, 12);
  const frame = Buffer.concat([eth, l3, segment]);
  return fields.truncate !== undefined ? frame.subarray(0, fields.truncate) : frame;
}

function fillChecksum(segment: Buffer, protocol: number, pseudo: Buffer[]): void {
  const at = protocol === 17 ? 6 : protocol === 6 ? 16 : protocol === 1 || protocol === 58 ? 2 : -1;
  if (at < 0 || segment.length < at + 2) return;
  const sum = internetChecksum(...pseudo, segment);
  // UDP sends an all-zero checksum as 0xffff (zero means "none").
  segment.writeUInt16BE(protocol === 17 && sum === 0 ? 0xffff : sum, at);
}

export function packetBytes(p: z.infer<typeof packet>): Buffer {
  return 'hex' in p && typeof p.hex === 'string' ? Buffer.from(p.hex, 'hex') : buildPacket(p as PacketFields);
}

// ---- comparison -----------------------------------------------------------------------------------

/** What one run gave: the return value, the packet afterwards, and each expected map entry before/after. */
export interface PacketRunOutcome {
  retval: number;
  packetOut: Buffer;
  maps: { expectation: MapExpectation; before: Buffer | null; after: Buffer | null; perCpuSlot?: number }[];
}

export interface Mismatch {
  what: string;
  expected: string;
  actual: string;
}

export interface PacketTestVerdict {
  passed: boolean;
  mismatches: Mismatch[];
  /** The whole report, one mismatch per paragraph: what Test Explorer shows. */
  diff: string;
}

function u64Sums(value: Buffer | null, fields: number, slot?: number): bigint[] {
  const sums = new Array<bigint>(fields).fill(0n);
  if (!value) return sums;
  const step = slot ?? value.length;
  for (let at = 0; at < value.length; at += step) {
    for (let f = 0; f < fields && at + f * 8 + 8 <= value.length && f * 8 + 8 <= step; f++)
      sums[f] += value.readBigUInt64LE(at + f * 8);
  }
  return sums;
}

/** "0000  45 00 00 1c ..." lines, 16 bytes each; `mark` underlines differing bytes with ^^. */
export function hexDump(bytes: Buffer, other?: Buffer): string {
  const lines: string[] = [];
  for (let at = 0; at < Math.max(bytes.length, 1); at += 16) {
    const row = [...bytes.subarray(at, at + 16)];
    lines.push(`${at.toString(16).padStart(4, '0')}  ${row.map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
    if (other) {
      const marks = row.map((b, i) => (other[at + i] === b ? '  ' : '^^')).join(' ');
      if (marks.trim()) lines.push(`      ${marks.trimEnd()}`);
    }
  }
  return lines.join('\n');
}

/** Compares a run with its test's expectations; every difference is named with expected and actual. */
export function comparePacketRun(
  test: PacketTestCase,
  outcome: PacketRunOutcome,
  programType: string,
): PacketTestVerdict {
  const mismatches: Mismatch[] = [];
  const family = verdictFamily(programType);
  const expect = test.expect;
  // Return values travel as u32; tc's TC_ACT_UNSPEC is -1.
  const retval = outcome.retval | 0;
  if (expect.verdict !== undefined) {
    const want = typeof expect.verdict === 'number' ? expect.verdict : VERDICTS[expect.verdict];
    if (want !== retval) {
      mismatches.push({ what: 'verdict', expected: verdictName(want, family), actual: verdictName(retval, family) });
    }
  }
  if (expect.packet) {
    const want = packetBytes(expect.packet);
    if (!want.equals(outcome.packetOut)) {
      mismatches.push({
        what: `packet (${want.length} bytes expected, ${outcome.packetOut.length} came out)`,
        expected: hexDump(want),
        actual: hexDump(outcome.packetOut, want),
      });
    }
  }
  for (const { offset, hex: wantHex } of expect.bytes ?? []) {
    const got = outcome.packetOut.subarray(offset, offset + wantHex.length / 2).toString('hex');
    if (got !== wantHex) {
      mismatches.push({
        what: `bytes at offset ${offset}`,
        expected: spaced(wantHex),
        actual: got ? spaced(got) : '(packet too short)',
      });
    }
  }
  for (const { expectation, before, after, perCpuSlot } of outcome.maps) {
    const name = describeKey(expectation.map, expectation.key);
    if (expectation.value !== undefined) {
      const want = specBytes(expectation.value).toString('hex');
      const got = after ? after.toString('hex') : null;
      if (got !== want)
        mismatches.push({
          what: `map ${name}`,
          expected: spaced(want),
          actual: got === null ? '(no entry)' : spaced(got),
        });
      continue;
    }
    const fields = expectation.increase!.length;
    const was = u64Sums(before, fields, perCpuSlot);
    const now = u64Sums(after, fields, perCpuSlot);
    const grew = now.map((n, i) => n - was[i]);
    if (!grew.every((g, i) => g === BigInt(expectation.increase![i]))) {
      const show = (values: (bigint | number)[]) => `[${values.map((v) => (v >= 0 ? `+${v}` : String(v))).join(', ')}]`;
      mismatches.push({
        what: `map ${name}: increase of its __u64 fields${after === null ? ' (no entry after the run)' : ''}`,
        expected: show(expectation.increase!),
        actual: show(grew),
      });
    }
  }
  const diff = mismatches
    .map((m) =>
      m.expected.includes('\n') || m.actual.includes('\n')
        ? `${m.what}:\n  expected:\n${indent(m.expected)}\n  actual:\n${indent(m.actual)}`
        : `${m.what}: expected ${m.expected}, got ${m.actual}`,
    )
    .join('\n\n');
  return { passed: mismatches.length === 0, mismatches, diff };
}

function spaced(hexText: string): string {
  return hexText.replace(/(..)(?!$)/g, '$1 ');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** The source or object a test file names, relative to it; default <name>.bpf.c beside <name>.bpftest.json. */
export function objectFor(testFile: string, file: Pick<PacketTestFile, 'object'>): string {
  const dir = testFile.slice(0, testFile.lastIndexOf('/') + 1);
  if (file.object) return file.object.startsWith('/') ? file.object : dir + file.object;
  return testFile.replace(/\.bpftest\.json$/, '.bpf.c');
}

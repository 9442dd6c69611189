// The *.bpftest.json format of packet tests: parsed with zod, with errors that name the field and the
// line, and the byte specs (hex or typed numbers) its keys and values use. Pure.
import { z } from 'zod';
import { VERDICTS } from './verdicts';

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
  z
    .object({
      u64: z
        .union([z.number().int().min(0), z.string().regex(/^\d+$/)])
        // JSON numbers are exact only up to 2^53: larger values are written as strings.
        // zod refines values its checks already refused too: BigInt must not see those.
        .refine(
          (v) =>
            typeof v === 'number' ? Number.isInteger(v) && v < 2 ** 64 : /^\d+$/.test(v) && BigInt(v) < 1n << 64n,
          {
            message: 'must fit in 64 bits (write large values as "digits")',
          },
        ),
    })
    .strict(),
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

/** The source or object a test file names, relative to it; default <name>.bpf.c beside <name>.bpftest.json. */
export function objectFor(testFile: string, file: Pick<PacketTestFile, 'object'>): string {
  const dir = testFile.slice(0, testFile.lastIndexOf('/') + 1);
  if (file.object) return file.object.startsWith('/') ? file.object : dir + file.object;
  return testFile.replace(/\.bpftest\.json$/, '.bpf.c');
}

/** The 16 bytes of an IPv6 address in any RFC 4291 text form, or undefined. */
export function parseIpv6(text: string): Buffer | undefined {
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

export type PacketSpec = z.infer<typeof packet>;

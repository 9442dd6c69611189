// The comparison of what BPF_PROG_TEST_RUN returned with what a test expected, as a readable diff. Pure.
import type { MapExpectation, PacketTestCase } from './schema';
import { describeKey, specBytes } from './schema';
import { packetBytes } from './packet';
import { VERDICTS, verdictFamily, verdictName } from './verdicts';

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

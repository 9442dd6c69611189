// Runs one *.bpftest.json through the helper: loads the program unattached, writes the setup entries,
// feeds each packet to BPF_PROG_TEST_RUN, reads the expected map entries before and after, compares,
// and unloads. Free of vscode, so the Test Explorer controller and the kernel tests run the same code.
import type { HelperClient } from '../../client/client';
import { Methods } from '../../../protocol/methods';
import { isPerCpuMapType } from '../../../formats/map-types';
import { perCpuSlot as perCpuSlotSize } from '../../../formats/btf-decode';
import {
  comparePacketRun,
  describeKey,
  packetBytes,
  PacketTestCase,
  PacketTestFile,
  PacketTestVerdict,
  specBytes,
} from '../../../formats/packet-test';

export interface PacketTestResult {
  name: string;
  /** Set when the test ran; absent when it could not (see error). */
  verdict?: PacketTestVerdict;
  retval?: number;
  packetOut?: string;
  durationNs?: number;
  /** Why the test could not run at all (unknown map, refused load, ...). */
  error?: string;
}

export interface PacketTestFileResult {
  program: string;
  programType: string;
  results: PacketTestResult[];
}

type Helper = Pick<HelperClient, 'request'>;

/** What Test Explorer shows for one result: its state, the full report, and a diff per mismatch. */
export interface TestItemOutcome {
  state: 'passed' | 'failed' | 'errored';
  durationMs?: number;
  /** The first message is the whole report; the others are expected/actual pairs for the diff view. */
  messages: { message: string; expected?: string; actual?: string }[];
}

export function testItemOutcome(result: PacketTestResult): TestItemOutcome {
  const durationMs = result.durationNs !== undefined ? result.durationNs / 1e6 : undefined;
  if (result.error || !result.verdict)
    return { state: 'errored', messages: [{ message: result.error ?? 'the test did not run' }] };
  if (result.verdict.passed) return { state: 'passed', durationMs, messages: [] };
  return {
    state: 'failed',
    durationMs,
    messages: [
      { message: result.verdict.diff },
      ...result.verdict.mismatches.map((m) => ({ message: m.what, expected: m.expected, actual: m.actual })),
    ],
  };
}

/**
 * Runs the tests of `file` (all, or those named in `only`) against the built object `objectPath`.
 * Throws only when nothing can run (the object or program is unusable); per-test failures are results.
 */
export async function runPacketTestFile(
  helper: Helper,
  file: PacketTestFile,
  objectPath: string,
  only?: Set<string>,
): Promise<PacketTestFileResult> {
  const spec = await helper.request(Methods.describe, { path: objectPath });
  const program = spec.programs.find((p) => p.name === file.program);
  if (!program) {
    throw new Error(
      `${spec.name} has no program "${file.program}" (it has: ${spec.programs.map((p) => p.name).join(', ')}).`,
    );
  }
  const load = await helper.request(Methods.load, {
    path: objectPath,
    programs: [program.name],
    attach: { [program.name]: { kind: 'none' } },
  });
  try {
    const progId = load.programs.find((p) => p.name === program.name)!.id;
    const mapIds = new Map(load.maps.map((m) => [m.name, m.id]));
    const mapIdOf = (name: string) => {
      const id = mapIds.get(name);
      if (id === undefined)
        throw new Error(
          `the object has no map "${name}" (it has: ${[...mapIds.keys()].filter((n) => !n.includes('.')).join(', ')})`,
        );
      return id;
    };
    const perCpuSlot = (name: string) => {
      const map = spec.maps.find((m) => m.name === name);
      return map && isPerCpuMapType(map.type) ? perCpuSlotSize(map.valueSize) : undefined;
    };
    const write = async (entries: PacketTestFile['setup']) => {
      for (const entry of entries) {
        await helper.request(Methods.mapUpdate, {
          mapId: mapIdOf(entry.map),
          key: specBytes(entry.key).toString('hex'),
          value: specBytes(entry.value).toString('hex'),
        });
      }
    };
    await write(file.setup);

    const results: PacketTestResult[] = [];
    for (const test of file.tests) {
      if (only && !only.has(test.name)) continue;
      results.push(await runOne(helper, test, progId, program.type, write, mapIdOf, perCpuSlot));
    }
    return { program: program.name, programType: program.type, results };
  } finally {
    await helper.request(Methods.unload, { loadId: load.loadId });
  }
}

async function runOne(
  helper: Helper,
  test: PacketTestCase,
  progId: number,
  programType: string,
  write: (entries: PacketTestFile['setup']) => Promise<void>,
  mapIdOf: (name: string) => number,
  perCpuSlot: (name: string) => number | undefined,
): Promise<PacketTestResult> {
  try {
    await write(test.setup);
    const lookup = async (map: string, key: Buffer) => {
      const { value } = await helper.request(Methods.mapLookup, { mapId: mapIdOf(map), key: key.toString('hex') });
      return value === null ? null : Buffer.from(value, 'hex');
    };
    const before = await Promise.all(test.expect.maps.map((m) => lookup(m.map, specBytes(m.key))));
    const run = await helper.request(Methods.testRun, {
      progId,
      data: packetBytes(test.packet).toString('hex'),
      repeat: test.repeat,
    });
    const after = await Promise.all(test.expect.maps.map((m) => lookup(m.map, specBytes(m.key))));
    const packetOut = Buffer.from(run.data, 'hex');
    const verdict = comparePacketRun(
      test,
      {
        retval: run.retval,
        packetOut,
        maps: test.expect.maps.map((expectation, i) => ({
          expectation,
          before: before[i],
          after: after[i],
          perCpuSlot: perCpuSlot(expectation.map),
        })),
      },
      programType,
    );
    return { name: test.name, verdict, retval: run.retval, packetOut: run.data, durationNs: run.durationNs };
  } catch (error) {
    const keys = test.expect.maps.map((m) => describeKey(m.map, m.key)).join(', ');
    return { name: test.name, error: `${(error as Error).message}${keys ? ` (expected map entries: ${keys})` : ''}` };
  }
}

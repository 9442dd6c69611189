// aya-log records from the real kernel: the fixtures aya_log_ringbuf.bpf.c (aya-log-common 0.2.0, ring
// buffer) and aya_log_perf.bpf.c (0.1.15 / 0.1.14, perf event array) write on each fork of this process
// the records of aya's own log integration test; the decoder (extension/formats/aya-log.ts) must turn
// the samples the addon delivers into the lines aya-log prints. Needs root; leaves the kernel as before.
import { strict as assert } from 'assert';
import * as path from 'path';
import { splitRecords } from '../../extension/formats/event-decode';
import { decodeAyaLogRecord } from '../../extension/formats/aya-log';
import type { AyaLogRecord, AyaLogTransport, AyaLogVersion } from '../../extension/formats/aya-log-format';
import { loadNative } from '../../native/index';
import type { EventBatch, LoadedObject, NativeAddon } from '../../native/index';
import {
  buildObject,
  eventually,
  expectKernelAsBefore,
  forkChildren,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
} from '../support/kernel';

const FIXTURES = path.join(__dirname, 'fixtures');

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** What aya-log prints for the fixture's records: [level, line, message] (the fork line is checked apart). */
const RING_LINES: [string, number, string][] = [
  ['debug', 10, 'Hello from eBPF!'],
  ['error', 11, '69, 420, wao, 77616f'],
  ['info', 12, 'ip structs, with format hint: ipv4: 10.0.0.1, ipv6: 2001:db8::1'],
  ['trace', 13, 'mac lc: 04:20:06:09:00:40, mac uc: 04:20:06:09:00:40'],
  ['warn', 14, 'hex lc: 2f, hex uc: 2F'],
  ['debug', 15, 'ptr: 0xdeadbeef'],
];
const PERF_LINES: [string, number, string][] = [
  ['debug', 20, 'Hello from eBPF!'],
  ['error', 21, '69, 420, wao, 77616f'],
  ['info', 22, 'ip as bits: ipv4: 10.0.0.1, ipv6: 2001:db8::1'],
  ['trace', 23, 'mac lc: 04:20:06:09:00:40, mac uc: 04:20:06:09:00:40'],
  ['warn', 24, 'hex lc: 2f, hex uc: 2F'],
];

describe('aya-log records from the kernel', function () {
  let addon: NativeAddon;
  let baseline: KernelObjects;
  const objects: Record<string, string> = {};

  before(async function () {
    requireCapability(this, isRoot(), 'the kernel tier loads BPF programs and needs root');
    addon = loadNative(); // a missing addon is a failure, not a skip: run npm run build:native
    objects.ring = await buildObject(path.join(FIXTURES, 'aya_log_ringbuf.bpf.c'));
    objects.perf = await buildObject(path.join(FIXTURES, 'aya_log_perf.bpf.c'));
    baseline = kernelObjects();
  });

  after(async function () {
    if (baseline) await expectKernelAsBefore(baseline);
  });

  /** Loads a fixture, attaches it, forks once and returns the decoded records of this process's fork. */
  async function capture(
    object: string,
    program: string,
    transport: AyaLogTransport,
    variables: Record<string, Buffer>,
    expected: number,
  ): Promise<{ records: AyaLogRecord[]; sizes: number[]; failures: string[] }> {
    const outcome = await addon.loadObject({
      path: object,
      variables: { target_tgid: u32le(process.pid), ...variables },
    });
    assert.ok(
      outcome.object,
      `load failed: ${outcome.error?.message}\n${outcome.programs.map((p) => p.log).join('\n')}`,
    );
    const obj: LoadedObject = outcome.object;
    const batches: EventBatch[] = [];
    let consumer: { close(): void } | undefined;
    let link: { detach(): void } | undefined;
    try {
      const map = obj.maps().find((m) => m.name === 'AYA_LOGS');
      assert.ok(map, 'the fixture has the map AYA_LOGS');
      assert.equal(map.type, transport === 'ringbuf' ? 'ringbuf' : 'perf_event_array');
      consumer =
        transport === 'ringbuf'
          ? addon.consumeRingBuffer(map.id, (b) => batches.push(b))
          : addon.consumePerfBuffer(map.id, 8, (b) => batches.push(b));
      link = obj.attach(program, { kind: 'tracepoint', category: 'sched', name: 'sched_process_fork' });
      forkChildren(1);
      const count = () => batches.reduce((n, b) => n + b.count, 0);
      await eventually(() => (count() >= expected ? true : undefined), 5000);
    } finally {
      link?.detach();
      consumer?.close();
      obj.close();
    }
    const records: AyaLogRecord[] = [];
    const sizes: number[] = [];
    const failures: string[] = [];
    for (const batch of batches) {
      assert.equal(batch.lost, 0, 'no sample lost');
      const { offsets, lengths, count } = splitRecords(batch.data);
      for (let i = 0; i < count; i++) {
        const sample = batch.data.subarray(offsets[i], offsets[i] + lengths[i]);
        sizes.push(sample.length);
        const result = decodeAyaLogRecord(sample, { transport });
        if (result.ok) records.push(result.record);
        else failures.push(`${result.error.kind}: ${result.error.message}`);
      }
    }
    return { records, sizes, failures };
  }

  const summary = (records: AyaLogRecord[]) => records.map((r) => [r.level, r.line, r.message]);

  function checkForkLine(records: AyaLogRecord[], line: number): void {
    const fork = records.find((r) => r.line === line);
    assert.ok(fork, 'the fork record arrived');
    const m = /^fork parent=(\d+) child=(\d+)$/.exec(fork.message);
    assert.ok(m, fork.message);
    assert.equal(Number(m[1]), process.pid, 'the parent is this process');
    assert.ok(Number(m[2]) > 0 && Number(m[2]) !== process.pid, `a child pid: ${m[2]}`);
    assert.deepEqual(
      fork.args.map((a) => [a.kind, a.hint]),
      [
        ['U32', 'default'],
        ['U32', 'default'],
      ],
    );
    assert.deepEqual(
      [fork.level, fork.target, fork.module, fork.file],
      ['info', 'aya_fixture', 'aya_fixture', 'src/main.rs'],
    );
  }

  it('ring buffer (aya-log-common 0.2.0): every record decodes to the line aya-log prints, samples sized as aya reserves them', async () => {
    const { records, sizes, failures } = await capture(
      objects.ring,
      'aya_log_ring',
      'ringbuf',
      {},
      RING_LINES.length + 1,
    );
    assert.deepEqual(failures, []);
    assert.deepEqual(summary(records.filter((r) => r.line !== 16)), RING_LINES);
    checkForkLine(records, 16);
    assert.ok(records.every((r) => r.version === '0.2.0'));
    // aya-log-ebpf 0.2.0 reserves the smallest power of two from 64 that holds the record.
    records.forEach((r, i) =>
      assert.equal(sizes[i], Math.max(64, 2 ** Math.ceil(Math.log2(r.size))), `record of ${r.size} bytes`),
    );
  });

  it('ring buffer: AYA_LOG_LEVEL set to warn at load keeps only errors and warnings', async () => {
    const { records, failures } = await capture(
      objects.ring,
      'aya_log_ring',
      'ringbuf',
      { AYA_LOG_LEVEL: Buffer.of(2) },
      2,
    );
    assert.deepEqual(failures, []);
    assert.deepEqual(
      records.map((r) => r.level),
      ['error', 'warn'],
    );
  });

  for (const patch of [15, 14]) {
    const version = `0.1.${patch}` as AyaLogVersion;
    it(`perf event array (aya-log-common ${version}): records decode, the version is recognised from the bytes`, async () => {
      const { records, failures } = await capture(
        objects.perf,
        'aya_log_perf',
        'perf',
        { common_patch: Buffer.of(patch) },
        PERF_LINES.length + 1,
      );
      assert.deepEqual(failures, []);
      assert.deepEqual(summary(records.filter((r) => r.line !== 25)), PERF_LINES);
      checkForkLine(records, 25);
      assert.ok(
        records.every((r) => r.version === version),
        records.map((r) => r.version).join(),
      );
    });
  }
});

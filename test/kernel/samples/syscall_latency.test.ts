// syscall_latency on the real kernel: a child that sleeps 300 ms lands in the clock_nanosleep row of
// the histogram at slot 28 (2^28 ns ≈ 268 ms); keys are struct latency_key {syscall @0, slot @4}.
import { strict as assert } from 'assert';
import { Methods } from '../../../extension/protocol/methods';
import { lookupFields, mapId, sampleSuite, samplePath, u32le, WaitingChild } from './sample-env';

/** clock_nanosleep's number: the histogram is keyed by the raw syscall number of the architecture. */
const CLOCK_NANOSLEEP: Record<string, number> = { x64: 230, arm64: 115 };

function key(syscall: number, slot: number): string {
  return u32le(syscall) + u32le(slot);
}

describe('sample syscall_latency', function () {
  const suite = sampleSuite('syscall_latency');

  it('puts a 300 ms sleep of the target process in slot 28 of clock_nanosleep', async function () {
    const nr = CLOCK_NANOSLEEP[process.arch];
    assert.ok(nr, `the syscall number of clock_nanosleep on ${process.arch} is known to this test`);
    const client = suite.client();
    // The shell waits for "go", then becomes /bin/sleep: same pid, so target_tgid follows it.
    const sleeper = new WaitingChild('/bin/sh', ['-c', 'read go; exec /bin/sleep 0.3']);
    try {
      const load = await client.request(Methods.load, {
        path: suite.object(),
        source: samplePath('syscall_latency'),
        variables: { target_tgid: u32le(sleeper.pid) },
      });
      assert.deepEqual(load.programs.map((p) => p.attachment?.description).sort(), [
        'raw_tracepoint/sys_enter',
        'raw_tracepoint/sys_exit',
      ]);
      const { code } = await sleeper.go();
      assert.equal(code, 0);
      const latency = mapId(load, 'latency');
      const [slow] = await lookupFields(client, latency, key(nr, 28), 1);
      assert.equal(slow, 1n, 'one clock_nanosleep of 300 ms in slot 28');
      // Every key belongs to the target: read the whole histogram and check it is the sleeper's only.
      const dump = await client.request(Methods.mapDump, { mapId: latency, count: 16384 });
      const { keys, values } = dump.page!;
      const rows = Array.from({ length: dump.count }, (_, i) => ({
        syscall: keys.readUInt32LE(i * 8),
        slot: keys.readUInt32LE(i * 8 + 4),
        count: values.readBigUInt64LE(i * 8),
      }));
      assert.ok(rows.length > 5, `the shell and sleep made many kinds of syscalls (got ${rows.length} rows)`);
      assert.ok(rows.every((r) => r.slot < 40 && r.count > 0n));
      const sleeps = rows.filter((r) => r.syscall === nr);
      assert.deepEqual(
        sleeps.map((r) => [r.slot, r.count]),
        [[28, 1n]],
        'the only clock_nanosleep is the 300 ms one',
      );
    } finally {
      sleeper.kill();
    }
  });
});

// execsnoop on the real kernel: the execs this test makes arrive through the ring buffer, decoded with
// the layout of execsnoop.h (pid @0, ppid @4, uid @8, filename_len @12, comm @16, filename @32).
import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import { Methods } from '../../../extension/protocol/methods';
import { collect, cString, eventually, mapId, sampleSuite, samplePath, u64le } from './sample-env';

interface ExecEvent {
  pid: number;
  ppid: number;
  uid: number;
  comm: string;
  filename: string;
}

function decode(record: Buffer): ExecEvent {
  const filenameLength = record.readUInt32LE(12);
  return {
    pid: record.readUInt32LE(0),
    ppid: record.readUInt32LE(4),
    uid: record.readUInt32LE(8),
    comm: cString(record.subarray(16, 32)),
    filename: record.subarray(32, 32 + filenameLength).toString('utf8'),
  };
}

function run(file: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

describe('sample execsnoop', function () {
  const suite = sampleSuite('execsnoop');

  it('sends pid, parent, uid, comm and file name of each exec through the ring buffer', async () => {
    const client = suite.client();
    const load = await client.request(Methods.load, { path: suite.object(), source: samplePath('execsnoop') });
    assert.equal(load.programs[0].attachment?.description, 'tracepoint/sched/sched_process_exec');
    const events = await collect(client, { source: 'ringbuf', mapId: mapId(load, 'exec_events') });
    try {
      const pids = [await run('/bin/true', []), await run('/usr/bin/env', ['true'])];
      const seen = await eventually(() => {
        const ours = events.records.map(decode).filter((e) => pids.includes(e.pid));
        return ours.length >= 3 ? ours : undefined;
      });
      assert.ok(seen, `events for our children ${pids} arrived (got ${events.records.length} records)`);
      const first = seen.find((e) => e.pid === pids[0])!;
      assert.deepEqual(first, { pid: pids[0], ppid: process.pid, uid: 0, comm: 'true', filename: '/bin/true' });
      // env execs "true" in the same process: two events for one pid, the second found on PATH.
      const envEvents = seen.filter((e) => e.pid === pids[1]);
      assert.equal(envEvents[0].filename, '/usr/bin/env');
      assert.match(envEvents[1].filename, /\/true$/);
      assert.equal(envEvents[1].ppid, process.pid);
    } finally {
      await events.stop();
    }
  });

  it('reports only the chosen uid when uid_filter is set', async () => {
    const client = suite.client();
    // A uid nobody runs as: nothing may arrive, however many execs happen.
    const load = await client.request(Methods.load, {
      path: suite.object(),
      variables: { uid_filter: u64le(4000000000) },
    });
    const events = await collect(client, { source: 'ringbuf', mapId: mapId(load, 'exec_events') });
    try {
      await run('/bin/true', []);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(events.records.length, 0);
    } finally {
      await events.stop();
    }
  });
});

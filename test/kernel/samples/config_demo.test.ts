// config_demo on the real kernel: the const volatile settings (target_pid, min_bytes, verbose), set
// through the helper's `variables` as the load dialog sets them, change what the program counts.
import { strict as assert } from 'assert';
import { Methods } from '../../../extension/protocol/methods';
import { parseTraceLine } from '../../../extension/formats/trace-line';
import {
  collect,
  eventually,
  lookupFields,
  mapId,
  sampleSuite,
  samplePath,
  u32le,
  u64le,
  WaitingChild,
} from './sample-env';

// The child writes 10 small and 5 large blocks to /dev/null with write(2), then exits.
const WRITES = `const fs = require('fs'); const fd = fs.openSync('/dev/null', 'w');
  for (let i = 0; i < 10; i++) fs.writeSync(fd, Buffer.alloc(40));
  for (let i = 0; i < 5; i++) fs.writeSync(fd, Buffer.alloc(333));`;

describe('sample config_demo', function () {
  const suite = sampleSuite('config_demo');

  it('describes its settings as const volatile globals in .rodata', async () => {
    const spec = await suite.client().request(Methods.describe, { path: suite.object() });
    const settings = spec.variables
      .filter((v) => v.section === '.rodata' && !v.name.includes('.'))
      .map((v) => [v.name, v.size]);
    assert.deepEqual(settings.sort(), [
      ['min_bytes', 8],
      ['target_pid', 4],
      ['verbose', 1],
    ]);
  });

  it('counts only the target pid, only writes of at least min_bytes, and prints them when verbose', async () => {
    const client = suite.client();
    const child = WaitingChild.node(WRITES);
    const trace = await collect(client, { source: 'trace_pipe' });
    try {
      const load = await client.request(Methods.load, {
        path: suite.object(),
        source: samplePath('config_demo'),
        variables: { target_pid: u32le(child.pid), min_bytes: u64le(100), verbose: '01' },
      });
      const { code } = await child.go();
      assert.equal(code, 0);
      const map = mapId(load, 'writes_by_pid');
      const [writes, bytes] = await lookupFields(client, map, u32le(child.pid), 2);
      assert.equal(writes, 5n, 'the 40-byte writes are below min_bytes; the five 333-byte ones count');
      assert.equal(bytes, 5n * 333n);
      const dump = await client.request(Methods.mapDump, { mapId: map, count: 100 });
      assert.equal(dump.count, 1, 'no other process is counted: target_pid filters them out');
      const printed = await eventually(() => {
        const ours = trace.lines
          .map(parseTraceLine)
          .filter((l) => l?.message === `config_demo: pid ${child.pid} wrote 333 bytes`);
        return ours.length >= 5 ? ours : undefined;
      });
      assert.ok(printed, 'verbose prints each counted write');
    } finally {
      child.kill();
      await trace.stop();
    }
  });

  it('with the defaults counts every process', async () => {
    const client = suite.client();
    const load = await client.request(Methods.load, { path: suite.object() });
    const child = WaitingChild.node(WRITES);
    await child.go();
    const [writes, bytes] = await lookupFields(client, mapId(load, 'writes_by_pid'), u32le(child.pid), 2);
    // Node itself writes a few bytes now and then (event loop wake-ups): at least ours are all there.
    assert.ok(writes >= 15n, `min_bytes 1 counts the small writes too (got ${writes})`);
    assert.ok(bytes >= 10n * 40n + 5n * 333n, `all bytes are counted (got ${bytes})`);
    const dump = await client.request(Methods.mapDump, { mapId: mapId(load, 'writes_by_pid'), count: 1024 });
    assert.ok(dump.count >= 2, 'other processes are counted as well (at least this one and the child)');
  });
});

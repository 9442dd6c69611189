// aya-log through the product path: the helper loads the aya-log fixtures, the trace panel's AyaLogStreams
// finds their AYA_LOGS map, subscribes through the helper's events/subscribe and decodes the records into
// the panel's lines "[LEVEL target] file:line message", attributed to the load. Needs root.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { Methods } from '../../extension/protocol/methods';
import { AyaLogStreams } from '../../extension/host/features/trace-panel/aya-log';
import { TraceModel } from '../../extension/host/features/trace-panel/model';
import type { TraceEntry } from '../../extension/host/features/trace-panel/source';
import {
  buildObject,
  eventually,
  expectKernelAsBefore,
  forkChildren,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
} from '../support/kernel';
import { u32le } from '../support/helper-wire';

const FIXTURES = path.join(__dirname, 'fixtures');

describe('aya-log in the trace panel, through the helper', function () {
  let client: HelperClient;
  let baseline: KernelObjects;
  const objects: Record<string, string> = {};

  before(async function () {
    requireCapability(this, isRoot(), 'the kernel tier loads BPF programs and needs root');
    assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
    objects.ring = await buildObject(path.join(FIXTURES, 'aya_log_ringbuf.bpf.c'));
    objects.perf = await buildObject(path.join(FIXTURES, 'aya_log_perf.bpf.c'));
    baseline = kernelObjects();
    client = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'kernel-test' });
  });

  after(async function () {
    await client?.dispose();
    if (baseline) await expectKernelAsBefore(baseline);
  });

  async function linesOf(object: string, variables: Record<string, string>, expected: number) {
    const load = await client.request(Methods.load, {
      path: object,
      variables: { target_tgid: u32le(process.pid), ...variables },
    });
    const streams = new AyaLogStreams(client);
    const entries: TraceEntry[] = [];
    streams.onLines = (e) => entries.push(...e);
    try {
      await streams.sync();
      assert.deepEqual(streams.mapIds, [load.maps.find((m) => m.name === 'AYA_LOGS')!.id]);
      forkChildren(1);
      await eventually(() => (entries.length >= expected ? true : undefined), 5000);
      // A second sync keeps the one subscription; after the unload it is dropped.
      await streams.sync();
      assert.equal(streams.mapIds.length, 1);
    } finally {
      await client.request(Methods.unload, { loadId: load.loadId });
      await streams.sync();
      assert.deepEqual(streams.mapIds, [], 'the stream of an unloaded object is closed');
      await streams.dispose();
    }
    assert.equal(streams.undecodable, 0, streams.lastError);
    assert.ok(entries.every((e) => e.program === load.name));
    return entries;
  }

  it('ring buffer (aya-log-common 0.2.0): records become lines with level, target, file:line and message', async () => {
    const entries = await linesOf(objects.ring, {}, 7);
    const lines = entries.map((e) => e.raw);
    assert.deepEqual(lines.slice(0, 6), [
      '[DEBUG aya_fixture] src/main.rs:10 Hello from eBPF!',
      '[ERROR aya_fixture] src/main.rs:11 69, 420, wao, 77616f',
      '[INFO aya_fixture] src/main.rs:12 ip structs, with format hint: ipv4: 10.0.0.1, ipv6: 2001:db8::1',
      '[TRACE aya_fixture] src/main.rs:13 mac lc: 04:20:06:09:00:40, mac uc: 04:20:06:09:00:40',
      '[WARN aya_fixture] src/main.rs:14 hex lc: 2f, hex uc: 2F',
      '[DEBUG aya_fixture] src/main.rs:15 ptr: 0xdeadbeef',
    ]);
    assert.match(lines[6], new RegExp(`^\\[INFO aya_fixture\\] src/main.rs:16 fork parent=${process.pid} child=\\d+$`));

    // The panel keeps them as rows and filters them by level like any text.
    const model = new TraceModel(100);
    model.addLines(entries);
    model.filter = { program: '', pid: '', text: '[warn' };
    assert.deepEqual(
      model.allRows().map((r) => r.text),
      ['[WARN aya_fixture] src/main.rs:14 hex lc: 2f, hex uc: 2F'],
    );
  });

  it('perf event array (aya-log-common 0.1.15): records become the same kind of lines', async () => {
    const entries = await linesOf(objects.perf, { common_patch: '0f' }, 6);
    assert.deepEqual(
      entries.slice(0, 2).map((e) => e.raw),
      [
        '[DEBUG aya_fixture] src/main.rs:20 Hello from eBPF!',
        '[ERROR aya_fixture] src/main.rs:21 69, 420, wao, 77616f',
      ],
    );
    assert.ok(entries.some((e) => /src\/main.rs:25 fork parent=\d+ child=\d+$/.test(e.raw)));
  });
});

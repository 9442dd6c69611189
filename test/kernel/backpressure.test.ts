// End-to-end backpressure on the real kernel (issue 10 item 4): a client that stops acknowledging frames
// gets no more than its window, the helper stops draining the kernel's buffer, and the kernel counts what
// it cannot keep. Once the client acknowledges again everything left is delivered, and the counts add up:
// program runs = delivered + lost in the kernel, with nothing dropped inside eBPF Studio.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { LIMITS, Methods } from '../../extension/protocol/methods';
import type { RecordsFrame } from '../../extension/formats/frames';
import { splitRecords } from '../../extension/formats/records';
import { TraceSource } from '../../extension/host/features/trace-panel/source';
import {
  buildObject,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
} from '../support/kernel';

const WINDOW = 64 * 1024;
const RUNS = 200_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('event backpressure on the real kernel', function () {
  let client: HelperClient;
  let baseline: KernelObjects;
  let objectPath: string;

  before(async function () {
    requireCapability(this, isRoot(), 'the kernel tier loads BPF programs and needs root');
    assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
    objectPath = await buildObject(path.join(__dirname, 'fixtures', 'flood.bpf.c'));
    baseline = kernelObjects();
    client = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'backpressure-test' });
  });

  after(async () => {
    await client?.dispose();
    if (baseline) await expectKernelAsBefore(baseline);
  });

  async function withFlood(
    body: (ids: {
      ring: number;
      perf: number;
      ringProg: number;
      perfProg: number;
      counters: () => Promise<Record<string, number>>;
    }) => Promise<void>,
  ) {
    const spec = await client.request(Methods.describe, { path: objectPath });
    const load = await client.request(Methods.load, { path: objectPath });
    try {
      const bss = load.maps.find((m) => m.name.endsWith('.bss'))!.id;
      const counters = async () => {
        const b = Buffer.from((await client.request(Methods.mapLookup, { mapId: bss, key: '00000000' })).value!, 'hex');
        const at = (n: string) => Number(b.readBigUInt64LE(spec.variables.find((v) => v.name === n)!.offset));
        return {
          produced: at('produced'),
          reserveFailed: at('reserve_failed'),
          perfProduced: at('perf_produced'),
          perfFailed: at('perf_failed'),
        };
      };
      await body({
        ring: load.maps.find((m) => m.name === 'flood_ring')!.id,
        perf: load.maps.find((m) => m.name === 'flood_perf')!.id,
        ringProg: load.programs.find((p) => p.name === 'ring_flood')!.id,
        perfProg: load.programs.find((p) => p.name === 'perf_flood')!.id,
        counters,
      });
    } finally {
      await client.request(Methods.unload, { loadId: load.loadId });
    }
  }

  /** Subscribes and counts frames; acknowledges only while `acking` is on. */
  async function subscribe(params: Parameters<typeof client.request<unknown, { subscription: number }>>[1]) {
    const state = { acking: false, frames: 0, records: 0, bytes: 0, unacked: 0, lost: 0, dropped: 0 };
    let id = -1;
    const early: RecordsFrame[] = [];
    const take = (f: RecordsFrame) => {
      state.frames++;
      state.records += splitRecords(f.records).count;
      state.bytes += f.records.length;
      state.lost += f.lostInKernel;
      state.dropped += f.droppedInHelper;
      state.unacked += f.records.length;
      if (state.acking) ack();
    };
    const ack = () => {
      client.ackEvents(id, state.unacked);
      state.unacked = 0;
    };
    const listener = client.onEvents((f) => (id < 0 ? early.push(f) : f.subscription === id && take(f)));
    id = (await client.request(Methods.subscribe, params as never)).subscription;
    early.filter((f) => f.subscription === id).forEach(take);
    return {
      state,
      startAcking: () => {
        state.acking = true;
        ack();
      },
      stop: async () => {
        listener.dispose();
        await client.request(Methods.unsubscribe, { subscription: id });
      },
    };
  }

  async function settle(state: { records: number }) {
    for (let idle = 0; idle < 6; idle++) {
      const seen = state.records;
      await sleep(100);
      if (state.records !== seen) idle = 0;
    }
  }

  it('ring buffer: stops at the window without acks, the kernel counts reserve failures, and the counts add up', async () => {
    await withFlood(async ({ ring, ringProg, counters }) => {
      const sub = await subscribe({ source: 'ringbuf', mapId: ring, window: WINDOW });
      try {
        await client.request(Methods.testRun, { progId: ringProg, data: '00'.repeat(64), repeat: RUNS });
        await settle(sub.state);
        // One record may overshoot the window: libbpf has consumed it by the time credit is checked.
        assert.ok(
          sub.state.bytes <= WINDOW + 32,
          `without acks at most the window arrives (got ${sub.state.bytes} bytes)`,
        );
        assert.ok(sub.state.records > 0, 'events arrived up to the window');
        const stalled = await counters();
        assert.ok(stalled.reserveFailed > 0, 'the program saw reserve failures while the helper held back');
        sub.startAcking();
        await settle(sub.state);
        const end = await counters();
        assert.equal(end.produced + end.reserveFailed, RUNS, 'every run either wrote an event or counted a failure');
        assert.equal(sub.state.dropped, 0, 'nothing dropped inside eBPF Studio');
        assert.equal(
          sub.state.records + end.reserveFailed,
          RUNS,
          `runs = delivered (${sub.state.records}) + lost in kernel (${end.reserveFailed})`,
        );
      } finally {
        await sub.stop();
      }
    });
  });

  it('perf buffer: the kernel reports what it lost while the helper held back, and the counts add up', async () => {
    await withFlood(async ({ perf, perfProg, counters }) => {
      const sub = await subscribe({ source: 'perf', mapId: perf, pages: 1, window: WINDOW });
      try {
        await client.request(Methods.testRun, { progId: perfProg, data: '00'.repeat(64), repeat: RUNS });
        await settle(sub.state);
        const held = sub.state.bytes;
        sub.startAcking();
        await settle(sub.state);
        // The kernel reports losses in a PERF_RECORD_LOST written before the next sample that fits on the
        // same CPU: single runs flush the count of the last stretch of losses, on whichever CPU the
        // helper's thread runs (it may move between runs on a busy machine).
        let flushes = 0;
        let end = await counters();
        while (flushes < 32 && sub.state.lost < end.perfFailed) {
          await client.request(Methods.testRun, { progId: perfProg, data: '00'.repeat(64), repeat: 1 });
          flushes++;
          await settle(sub.state);
          end = await counters();
        }
        assert.equal(end.perfProduced, RUNS + flushes);
        assert.ok(end.perfFailed > 0, 'the 1-page perf buffer overflowed while unread');
        assert.ok(held <= WINDOW + 8192, `without acks at most the window and one buffer arrive (got ${held})`);
        assert.equal(sub.state.dropped, 0, 'nothing dropped inside eBPF Studio');
        assert.equal(sub.state.lost, end.perfFailed, 'lost samples reported = failed outputs counted by the program');
        assert.equal(sub.state.records + sub.state.lost, RUNS + flushes, 'runs = delivered + lost in kernel');
      } finally {
        await sub.stop();
      }
    });
  });

  it('the trace panel source acknowledges what it hands on, so a long flood is delivered in full', async () => {
    await withFlood(async ({ ring, ringProg, counters }) => {
      const trace = new TraceSource(client);
      let delivered = 0;
      trace.onEvents = (batch) => (delivered += batch.count);
      const sub = await trace.subscribeEvents(ring);
      try {
        for (let i = 0; i < 3; i++)
          await client.request(Methods.testRun, { progId: ringProg, data: '00'.repeat(64), repeat: RUNS });
        await settle({
          get records() {
            return delivered;
          },
        });
        const end = await counters();
        assert.equal(trace.drops.droppedInHelper, 0);
        assert.equal(delivered + end.reserveFailed, 3 * RUNS, `delivered ${delivered} + lost ${end.reserveFailed}`);
        assert.equal(trace.delivered, delivered);
      } finally {
        await trace.unsubscribeEvents(sub);
        await trace.dispose();
      }
    });
  });

  it('refuses subscriptions past the limit, naming the limit', async () => {
    await withFlood(async ({ ring, perf }) => {
      // A map is streamed by one subscription at most (helper/ownership.ts): more loads of the object give
      // the limit + 1 distinct ring and perf buffers.
      const loads: string[] = [];
      const ids: number[] = [];
      try {
        const maps: { source: 'ringbuf' | 'perf'; mapId: number }[] = [
          { source: 'ringbuf', mapId: ring },
          { source: 'perf', mapId: perf },
        ];
        while (maps.length <= LIMITS.subscriptions) {
          const load = await client.request(Methods.load, { path: objectPath });
          loads.push(load.loadId);
          maps.push({ source: 'ringbuf', mapId: load.maps.find((m) => m.name === 'flood_ring')!.id });
          maps.push({ source: 'perf', mapId: load.maps.find((m) => m.name === 'flood_perf')!.id });
        }
        const params = (m: (typeof maps)[number]) =>
          m.source === 'ringbuf'
            ? { source: m.source, mapId: m.mapId }
            : { source: m.source, mapId: m.mapId, pages: 1 };
        for (const m of maps.slice(0, LIMITS.subscriptions))
          ids.push((await client.request(Methods.subscribe, params(m))).subscription);
        await assert.rejects(
          client.request(Methods.subscribe, params(maps[LIMITS.subscriptions])),
          new RegExp(`the limit is ${LIMITS.subscriptions}`),
        );
      } finally {
        for (const id of ids) await client.request(Methods.unsubscribe, { subscription: id });
        for (const loadId of loads) await client.request(Methods.unload, { loadId });
      }
    });
  });
});

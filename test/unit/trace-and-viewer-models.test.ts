/* eslint-disable @typescript-eslint/no-explicit-any -- fakes of the helper client and of wire rows */
import { strict as assert } from 'assert';
import type { BtfType, MapInfo } from '../../extension/protocol/types';
import { EventDecoder } from '../../extension/formats/event-decode';
import { Methods } from '../../extension/protocol/methods';
import { formFieldLabel, MapSource, undumpableReason } from '../../extension/host/features/maps/source';
import { MapViewerModel, MessageLine } from '../../extension/host/features/map-viewer/model';
import { mapUsers } from '../../extension/host/features/maps/model';
import { runStats, statsText } from '../../extension/host/features/programs/model';
import { rowsAsText, TraceModel } from '../../extension/host/features/trace-panel/model';
import {
  attribute,
  formatToPattern,
  printkFormats,
  TraceEntry,
} from '../../extension/host/features/trace-panel/source';
import { parseTraceLine } from '../../extension/formats/trace-line';

const u32: BtfType = { kind: 'int', name: 'unsigned int', size: 4, signed: false, char: false, bool: false, bits: 32 };
const u64: BtfType = {
  kind: 'int',
  name: 'unsigned long long',
  size: 8,
  signed: false,
  char: false,
  bool: false,
  bits: 64,
};

/** A helper that answers the data source's requests from an in-memory map (u32 -> u64). */
function fakeHelper(entries: Map<number, bigint>, info: Partial<MapInfo> = {}) {
  const map: MapInfo = {
    id: 7,
    name: 'counts',
    type: 'hash',
    keySize: 4,
    valueSize: 8,
    maxEntries: 1024,
    flags: 0,
    btfId: 1,
    btfKeyTypeId: 1,
    btfValueTypeId: 2,
    ...info,
  };
  return {
    async request(type: { method: string }, params?: any): Promise<any> {
      switch (type.method) {
        case Methods.maps.method:
          return [map];
        case Methods.mapTypes.method:
          return { key: u32, value: u64 };
        case Methods.mapDump.method: {
          const all = [...entries.entries()].sort((a, b) => a[0] - b[0]);
          const from = params.cursor ? Number(params.cursor) : 0;
          const page = all.slice(from, from + params.count);
          const keys = Buffer.alloc(page.length * 4);
          const values = Buffer.alloc(page.length * 8);
          page.forEach(([k, v], i) => {
            keys.writeUInt32LE(k, i * 4);
            values.writeBigUInt64LE(v, i * 8);
          });
          const next = from + page.length < all.length ? String(from + page.length) : undefined;
          return {
            keySize: 4,
            valueSize: 8,
            perCpu: 0,
            count: page.length,
            frame: from + 1,
            page: { keys, values },
            cursor: next,
            ...(params.cursor ? {} : { map, types: { key: u32, value: u64 } }),
          };
        }
        case Methods.mapLookup.method: {
          const v = entries.get(Buffer.from(params.key, 'hex').readUInt32LE(0));
          if (v === undefined) return { value: null };
          const b = Buffer.alloc(8);
          b.writeBigUInt64LE(v);
          return { value: b.toString('hex') };
        }
        case Methods.mapEdit.method: {
          const k = Buffer.from(params.key, 'hex').readUInt32LE(0);
          if (params.mode === 'add' && entries.has(k)) throw new Error('exists');
          entries.set(k, Buffer.from(params.value.bytes, 'hex').readBigUInt64LE(0));
          return {};
        }
        case Methods.mapUpdate.method:
          entries.set(
            Buffer.from(params.key, 'hex').readUInt32LE(0),
            Buffer.from(params.value, 'hex').readBigUInt64LE(0),
          );
          return undefined;
      }
      throw new Error(`unexpected ${type.method}`);
    },
  } as any;
}

async function snapshot(model: MapViewerModel, progressive: boolean) {
  model.beginSnapshot(progressive);
  for (const p of await model.source.readAll(3)) model.addPage(p);
  model.finishSnapshot();
}

describe('map viewer model', () => {
  it('pages rows, filters, sorts numerically and marks cells that changed since the last refresh', async () => {
    const data = new Map<number, bigint>([
      [1, 10n],
      [2, 300n],
      [3, 20n],
      [4, 2n ** 60n],
      [5, 40n],
    ]);
    const model = new MapViewerModel(await MapSource.open(fakeHelper(data), 7));
    await snapshot(model, true);
    assert.equal(model.rowCount, 5);
    assert.deepEqual(
      model.rows(1, 2).map((r) => r.cells),
      [
        ['2', '300'],
        ['3', '20'],
      ],
    );
    model.setSort({ column: 1, descending: true });
    assert.deepEqual(
      model.rows(0, 5).map((r) => r.cells[0]),
      ['4', '2', '5', '3', '1'],
    );
    model.setFilter('30');
    assert.deepEqual(
      model.rows(0, 5).map((r) => r.cells[0]),
      ['2'],
    );
    model.setFilter('');
    model.setSort(undefined);
    data.set(3, 21n);
    data.set(6, 1n);
    await snapshot(model, false);
    const rows = model.rows(0, 6);
    assert.deepEqual(
      rows.map((r) => r.changed),
      [[], [], [1], [], [], [1]],
    );
  });

  it('keeps the last rows when a refresh fails part way (the map was unloaded)', async () => {
    const data = new Map<number, bigint>([
      [1, 10n],
      [2, 20n],
      [3, 30n],
      [4, 40n],
    ]);
    const model = new MapViewerModel(await MapSource.open(fakeHelper(data), 7));
    await snapshot(model, true);
    // A refresh reads one page, then the map is gone: the viewer abandons it as MapViewerPanel does.
    model.beginSnapshot(false);
    model.addPage((await model.source.readPage(3)).page);
    model.abandonSnapshot();
    model.finishSnapshot();
    assert.equal(model.rowCount, 4);
    assert.deepEqual(
      model.rows(0, 4).map((r) => r.cells),
      [
        ['1', '10'],
        ['2', '20'],
        ['3', '30'],
        ['4', '40'],
      ],
    );
  });

  it('records a tracked value at each refresh for the line plot', async () => {
    const data = new Map<number, bigint>([[1, 10n]]);
    const model = new MapViewerModel(await MapSource.open(fakeHelper(data), 7));
    await snapshot(model, true);
    const id = model.track('01000000', 1);
    data.set(1, 15n);
    await snapshot(model, false);
    assert.deepEqual(
      model.series.get(id)!.points.map((p) => p[1]),
      [10, 15],
    );
  });

  it('labels each form input once: a scalar key or value by its part, a key field as "key <path>"', async () => {
    const source = await MapSource.open(fakeHelper(new Map()), 7);
    assert.deepEqual(source.formFields('key', ['3']), [{ path: '', label: 'key', type: 'u32', value: '3' }]);
    assert.deepEqual(source.formFields('value', ['0']), [{ path: '', label: 'value', type: 'u64', value: '0' }]);
    assert.equal(formFieldLabel('key', 'pid'), 'key pid');
    assert.equal(formFieldLabel('value', 'hist.slots[2]'), 'hist.slots[2]');
  });

  it('clears a read failure on the next good read, and leaves other messages alone', () => {
    const line = new MessageLine();
    assert.equal(line.readSucceeded(), undefined);
    assert.equal(line.readFailed(new Error('Bad file descriptor')), 'Reading the map failed: Bad file descriptor');
    assert.equal(line.readSucceeded(), '');
    assert.equal(line.readSucceeded(), undefined, 'cleared once');
    line.readFailed(new Error('EPERM'));
    line.replaced(); // a refused delete now shows instead
    assert.equal(line.readSucceeded(), undefined);
  });

  it('says which map types cannot be listed', () => {
    assert.match(undumpableReason('ringbuf')!, /Trace Output/);
    assert.match(undumpableReason('perf_event_array')!, /perf buffer per CPU/);
    assert.equal(undumpableReason('hash'), undefined);
    assert.equal(undumpableReason('prog_array'), undefined);
  });
});

describe('trace attribution', () => {
  it('turns bpf_printk formats into patterns and attributes lines to the most specific program', () => {
    const formats = [
      ...printkFormats('fork_trace', [
        {
          name: 'trace_fork.____fmt',
          initial: { type: 'Buffer', data: [...Buffer.from('fork parent=%d child=%d\0')] },
        },
      ]),
      ...printkFormats('other', [
        { name: 'any.___fmt', initial: Buffer.from('%s\0') },
        { name: 'counter', initial: Buffer.alloc(4) },
      ]),
    ];
    assert.deepEqual(
      formats.map((f) => [f.program, f.format]),
      [
        ['trace_fork', 'fork parent=%d child=%d'],
        ['any', '%s'],
      ],
    );
    assert.equal(attribute('fork parent=12 child=-3', formats)!.program, 'trace_fork');
    assert.equal(attribute('something else', formats)!.program, 'any');
    assert.ok(formatToPattern('x=%llu y=%x %%').test('x=18446744073709551615 y=ff %'));
    assert.ok(!formatToPattern('pid %d').test('pid abc'));
  });
});

describe('trace model', () => {
  const line = (n: number, message: string, pid = 100): TraceEntry => {
    const raw = `            bash-${pid}    [001] d..31  ${5000 + n}.123456: bpf_trace_printk: ${message}`;
    return { raw, line: parseTraceLine(raw), program: message.startsWith('fork') ? 'trace_fork' : undefined };
  };

  it('a redraw sends every kept row once: rows arriving later come after it, and copying marks nothing as sent', () => {
    const model = new TraceModel(10);
    model.addLines([line(1, 'first')], 1000);
    assert.deepEqual(
      model.redrawRows().map((r) => r.text),
      ['first'],
    );
    assert.deepEqual(model.takeNew(), [], 'the redrawn row is not sent again');
    model.addLines([line(2, 'second')], 1001);
    assert.deepEqual(
      model.allRows().map((r) => r.text),
      ['first', 'second'],
    );
    assert.deepEqual(
      model.takeNew().map((r) => r.text),
      ['second'],
      'a copy in between does not swallow new rows',
    );
  });

  it('keeps only the last N records, filters by program, pid and text, and counts events per second', () => {
    const model = new TraceModel(3);
    model.addLines([line(1, 'fork a'), line(2, 'other b', 200), line(3, 'fork c'), line(4, 'fork d', 200)], 1000);
    assert.equal(model.kept, 3);
    assert.equal(model.received, 4);
    assert.deepEqual(
      model.takeNew().map((r) => r.text),
      ['other b', 'fork c', 'fork d'],
    );
    assert.deepEqual(model.takeNew(), []);
    model.filter = { program: 'trace_fork', pid: '200', text: '' };
    assert.deepEqual(
      model.allRows().map((r) => r.text),
      ['fork d'],
    );
    model.filter = { program: '', pid: '', text: 'OTHER' };
    assert.deepEqual(
      model.allRows().map((r) => r.text),
      ['other b'],
    );
    assert.equal(model.eventsPerSecond(1500), 4);
    assert.equal(model.eventsPerSecond(3000), 0);
    model.clear();
    assert.equal(model.kept, 0);
    assert.match(
      rowsAsText(
        [line(5, 'fork e')].map((e) => ({
          seq: 1,
          source: 'trace',
          time: '1.0',
          task: e.line!.task,
          pid: '100',
          cpu: '1',
          program: 'p',
          text: 'fork e',
        })),
      ),
      /^1\.0 trace bash-100 \[1\] <p> fork e\n$/,
    );
  });

  it('shows printk lines and ring buffer events in one clock, the wall clock, with the kernel clock on hover', () => {
    const model = new TraceModel(10);
    // Two lines printed at 5001.123456 and 5003.123456 s since boot; the first reached the panel 40 ms
    // later, the second 5 ms later (the closer estimate of the clock offset wins).
    const boot = Date.UTC(2025, 0, 1, 12, 0, 0);
    model.addLines([line(1, 'fork a')], boot + 5001_123 + 40);
    model.addLines([line(3, 'fork b')], boot + 5003_123 + 5);
    const batch = (at: number) => {
      const data = Buffer.alloc(8);
      data.writeUInt32LE(4, 0);
      data.writeUInt32LE(42, 4);
      return { at, data };
    };
    const { at, data } = batch(boot + 5004_000);
    model.addEvents(
      {
        mapId: 1,
        mapName: 'events',
        structName: 'ev',
        decoder: new EventDecoder({
          kind: 'struct',
          name: 'ev',
          size: 4,
          members: [{ name: 'pid', bitOffset: 0, bitSize: 0, type: u32 }],
        }),
        data,
        offsets: Uint32Array.from([4]),
        lengths: Uint32Array.from([4]),
        count: 1,
      },
      'obj',
      at,
    );
    const rows = model.takeNew();
    const clock = (ms: number) => {
      const d = new Date(ms);
      const two = (n: number) => String(n).padStart(2, '0');
      return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
    };
    assert.deepEqual(
      rows.map((r) => r.time),
      [clock(boot + 5001_123 + 5), clock(boot + 5003_123 + 5), clock(boot + 5004_000)],
    );
    for (const r of rows) assert.match(r.time, /^\d\d:\d\d:\d\d\.\d{3}$/, 'one format for every source');
    assert.equal(rows[0].timeTitle, "5001.123456 s since boot (trace_pipe's clock)");
    assert.match(rows[2].timeTitle ?? '', /^received 2025-01-01T/);
  });

  it('keeps events as references into their batch and formats them with the struct fields', () => {
    const event: BtfType = {
      kind: 'struct',
      name: 'ev',
      size: 8,
      members: [
        { name: 'pid', bitOffset: 0, bitSize: 0, type: u32 },
        { name: 'n', bitOffset: 32, bitSize: 0, type: u32 },
      ],
    };
    const data = Buffer.alloc(32);
    [
      [7, 1],
      [8, 2],
    ].forEach(([pid, n], i) => {
      data.writeUInt32LE(8, i * 16);
      data.writeUInt32LE(pid, i * 16 + 4);
      data.writeUInt32LE(n, i * 16 + 8);
    });
    const model = new TraceModel(10);
    model.addEvents(
      {
        mapId: 1,
        mapName: 'events',
        structName: 'ev',
        decoder: new EventDecoder(event),
        data,
        offsets: Uint32Array.from([4, 20]),
        lengths: Uint32Array.from([8, 8]),
        count: 2,
      },
      'my_obj',
    );
    const rows = model.takeNew();
    assert.deepEqual(
      rows.map((r) => [r.source, r.pid, r.program, r.text]),
      [
        ['events', '7', 'my_obj', 'pid=7 n=1'],
        ['events', '8', 'my_obj', 'pid=8 n=2'],
      ],
    );
  });
});

describe('program statistics and map users', () => {
  const prog = (id: number, runCount: number, runTimeNs: number, mapIds: number[] = []) =>
    ({ id, name: `p${id}`, runCount, runTimeNs, mapIds }) as any;

  it('computes runs, ns per run and CPU% over the refresh interval', () => {
    const s = runStats([prog(1, 100, 10_000)], [prog(1, 1100, 510_000), prog(2, 5, 500)], 1000);
    assert.deepEqual(s.get(1), { runs: 1000, avgNs: 500, cpuPercent: 0.05, totalRuns: 1100 });
    assert.equal(s.get(2)!.cpuPercent, 0);
    assert.equal(statsText(s.get(1), 1000), ' · 1,000 runs/s · 500 ns · 0.05% CPU');
  });

  it('lists the programs using each map', () => {
    const users = mapUsers([prog(1, 0, 0, [10, 11]), prog(2, 0, 0, [11])]);
    assert.deepEqual(users.get(11), ['p1', 'p2']);
    assert.deepEqual(users.get(10), ['p1']);
  });
});

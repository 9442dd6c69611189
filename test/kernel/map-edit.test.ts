// Map edits on the real kernel (issue 10 item 5), through the map viewer's data source and map/edit: one
// helper call checked against the value the user saw, per-CPU edits that keep the other CPUs' current
// values, program arrays written by program id, LRU writes that warn, and Add on an existing key refused as
// a Conflict the viewer turns into Edit.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { LoadedSummary, Methods } from '../../extension/protocol/methods';
import { HelperError } from '../../extension/protocol/errors';
import { MapSource } from '../../extension/host/features/maps/source';
import {
  buildObject,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
} from '../support/kernel';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b.toString('hex');
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const conflict = (reason: string, text: RegExp) => (e: unknown) =>
  e instanceof HelperError && e.data.kind === 'Conflict' && e.data.reason === reason && text.test(e.message);

describe('map edits on the real kernel', function () {
  let client: HelperClient;
  let baseline: KernelObjects;
  let load: LoadedSummary;
  const mapId = (name: string) => load.maps.find((m) => m.name === name)!.id;

  before(async function () {
    requireCapability(this, isRoot(), 'the kernel tier loads BPF programs and needs root');
    assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
    const object = await buildObject(path.join(__dirname, 'fixtures', 'edits.bpf.c'));
    baseline = kernelObjects();
    client = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'map-edit-test' });
    load = await client.request(Methods.load, {
      path: object,
      attach: { entry: { kind: 'none' }, target: { kind: 'none' } },
    });
  });

  after(async () => {
    if (load) await client.request(Methods.unload, { loadId: load.loadId });
    await client?.dispose();
    if (baseline) await expectKernelAsBefore(baseline);
  });

  it('refuses an edit of an entry that changed since the user saw it, and writes one that did not', async () => {
    const source = await MapSource.open(client, mapId('plain'));
    await source.write({ fields: { '': '1' } }, { '': '10' }, { mode: 'add' });
    const seen = (await source.lookup(u32(1)))!;
    // The program (here: another writer) updates the entry after the form opened.
    await client.request(Methods.mapUpdate, { mapId: mapId('plain'), key: u32(1), value: u64(11).toString('hex') });
    await assert.rejects(
      source.write({ hex: u32(1) }, { '': '99' }, { mode: 'edit', seen }),
      conflict('changed', /plain\[01000000\] changed since you opened it: reload\?/),
    );
    assert.equal((await source.lookup(u32(1)))!.readBigUInt64LE(), 11n, 'the refused edit wrote nothing');
    await source.write({ hex: u32(1) }, { '': '99' }, { mode: 'edit', seen: (await source.lookup(u32(1)))! });
    assert.equal((await source.lookup(u32(1)))!.readBigUInt64LE(), 99n);
  });

  it('refuses Add on an existing key (the viewer offers Edit) and Edit of a deleted entry', async () => {
    const source = await MapSource.open(client, mapId('plain'));
    await assert.rejects(
      source.write({ fields: { '': '1' } }, { '': '5' }, { mode: 'add' }),
      conflict('exists', /already exists: edit it instead/),
    );
    const seen = (await source.lookup(u32(1)))!;
    assert.equal(await source.delete(u32(1)), true);
    await assert.rejects(
      source.write({ hex: u32(1) }, { '': '5' }, { mode: 'edit', seen }),
      conflict('gone', /was deleted since you opened it/),
    );
  });

  it("edits one CPU of a per-CPU map and keeps the other CPUs' current values", async function () {
    const source = await MapSource.open(client, mapId('per_cpu'));
    requireCapability(this, source.cpus >= 2, 'editing one CPU while keeping the others needs at least 2 CPUs');
    await source.write({ hex: u32(2) }, { '': '5' }, { mode: 'edit' }); // every CPU
    const seen = (await source.lookup(u32(2)))!;
    // CPU 0 moves on after the form opened on CPU 1.
    await client.request(Methods.mapEdit, {
      mapId: mapId('per_cpu'),
      key: u32(2),
      mode: 'edit',
      value: { kind: 'bytes', bytes: u64(9).toString('hex'), cpu: 0 },
    });
    await source.write({ hex: u32(2) }, { '': '7' }, { mode: 'edit', cpu: 1, seen });
    const now = (await source.lookup(u32(2)))!;
    assert.equal(now.readBigUInt64LE(0), 9n, 'CPU 0 keeps its current value, not the one the form saw');
    assert.equal(now.readBigUInt64LE(8), 7n, 'CPU 1 has the edit');
  });

  it('writes a program array entry by program id, also when saved unchanged, and refuses raw bytes', async () => {
    const source = await MapSource.open(client, mapId('jumps'));
    assert.equal(source.referenceKind, 'program');
    const target = load.programs.find((p) => p.name === 'target')!.id;
    await source.write({ hex: u32(0) }, { '': String(target) }, { mode: 'add' });
    const read = (await source.lookup(u32(0)))!;
    assert.equal(read.readUInt32LE(), target, 'a program array reads back program ids');
    // Saving the entry unchanged (the old code wrote the id as if it were a descriptor: EBADF).
    await source.write({ hex: u32(0) }, { '': String(target) }, { mode: 'edit', seen: read });
    assert.equal((await source.lookup(u32(0)))!.readUInt32LE(), target);
    await assert.rejects(
      client.request(Methods.mapEdit, {
        mapId: mapId('jumps'),
        key: u32(1),
        mode: 'add',
        value: { kind: 'bytes', bytes: u32(target) },
      }),
      /holds program references: pick a program by id/,
    );
    await assert.rejects(
      source.write({ hex: u32(1) }, { '': 'abc' }, { mode: 'add' }),
      /the id of the program to put here/,
    );
  });

  it('warns that a write to an LRU map may evict another entry', async () => {
    const source = await MapSource.open(client, mapId('recent'));
    const result = await source.write({ fields: { '': '3' } }, { '': '1' }, { mode: 'add' });
    assert.match(result.warning ?? '', /LRU map: when it is full, a write evicts its least recently used entry/);
    const plain = await MapSource.open(client, mapId('plain'));
    assert.equal((await plain.write({ fields: { '': '4' } }, { '': '1' }, { mode: 'add' })).warning, undefined);
  });
});

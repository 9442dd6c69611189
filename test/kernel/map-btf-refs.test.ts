// A map value whose BTF tree the addon bounds with a `ref` (issue 10): struct shared_val { struct point a;
// struct filler f; struct point b; }, where the 4,200 zero-size members of `filler` spend the 4,096-node
// budget, so `b` comes back as a ref to `a`'s struct. The map viewer's data source must decode and edit
// both points on the real kernel.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { LoadedSummary, Methods } from '../../extension/protocol/methods';
import type { BtfType } from '../../extension/protocol/types';
import { exportJson, MapSource } from '../../extension/host/features/maps/source';
import {
  buildObject,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
} from '../support/kernel';

describe('map viewer on a value type given with refs (real kernel)', function () {
  this.timeout(120000);
  let client: HelperClient;
  let baseline: KernelObjects;
  let load: LoadedSummary;

  before(async function () {
    requireCapability(this, isRoot(), 'the kernel tier loads BPF programs and needs root');
    assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
    const objectPath = await buildObject(path.join(__dirname, 'fixtures', 'shared_struct.bpf.c'));
    baseline = kernelObjects();
    client = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'btf-refs-test' });
    // A socket filter is loaded, not attached: only its map matters here.
    load = await client.request(Methods.load, { path: objectPath });
  });

  after(async function () {
    if (client?.running) {
      for (const l of await client.request(Methods.listLoaded))
        await client.request(Methods.unload, { loadId: l.loadId });
      await client.dispose();
    }
    if (baseline) await expectKernelAsBefore(baseline);
  });

  it('the helper gives the second struct point as a ref to the first', async () => {
    const mapId = load.maps.find((m) => m.name === 'shared')!.id;
    const { value } = await client.request(Methods.mapTypes, { mapId });
    assert.ok(value && value.kind === 'struct', `value type: ${JSON.stringify(value)?.slice(0, 200)}`);
    const [a, , b] = value.members;
    const point: BtfType = a.type;
    assert.ok(point.kind === 'struct' && point.name === 'point', `member a: ${JSON.stringify(point)}`);
    assert.deepEqual(b.type, { kind: 'ref', id: point.id, name: 'struct point', size: 8 });
  });

  it('decodes, exports and edits both points, the one behind the ref included', async () => {
    const source = await MapSource.open(client, load.maps.find((m) => m.name === 'shared')!.id);
    assert.deepEqual(
      source.columns.map((c) => `${c.part}:${c.label}:${c.type}`),
      ['key:key:__u32', 'value:a.x:__u32', 'value:a.y:__u32', 'value:b.x:__u32', 'value:b.y:__u32'],
    );
    await source.write(
      { fields: { '': '7' } },
      { 'a.x': '1', 'a.y': '2', 'b.x': '3', 'b.y': '4' },
      { flags: 'noexist' },
    );
    await source.write({ fields: { '': '7' } }, { 'b.y': '0xffffffff' });
    const pages = await source.readAll();
    const entries = [...source.entries(pages)];
    assert.equal(entries.length, 1);
    assert.deepEqual(entries[0].value, [1, 2, 3, 0xffffffff]);
    const [exported] = JSON.parse(exportJson(source, pages)) as { key: number; value: Record<string, unknown> }[];
    assert.equal(exported.key, 7);
    assert.deepEqual(exported.value.a, { x: 1, y: 2 });
    assert.deepEqual(exported.value.b, { x: 3, y: 0xffffffff });
    await assert.rejects(source.write({ fields: { '': '7' } }, { 'b.x': '-1' }), /b\.x.*out of range/);
  });
});

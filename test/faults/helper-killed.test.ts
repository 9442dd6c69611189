// The helper killed with SIGKILL at each step of a load, attach, pin, unload and map edit (fault points,
// extension/helper/faults.ts): afterwards the kernel holds exactly what the user expects — nothing of a
// load that was not pinned yet, all of one that was — and a new helper finds it and works.
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { BPFFS_PREFIX, Methods } from '../../extension/protocol/methods';
import {
  buildObject,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
  samplePath,
} from '../support/kernel';

type FaultPoint = 'load:loaded' | 'load:attached' | 'pin:partial' | 'unload:unpinned' | 'map:update';

/** A helper that kills itself with SIGKILL when it reaches `point` (the environment goes through env(1)). */
function helperDyingAt(point: FaultPoint): Promise<HelperClient> {
  return HelperClient.start({
    helperScript,
    elevation: `/usr/bin/env EBPF_STUDIO_FAULT=${point}`,
    clientName: 'faults',
  });
}

function helper(): Promise<HelperClient> {
  return HelperClient.start({ helperScript, elevation: 'auto', clientName: 'faults' });
}

function exited(client: HelperClient): Promise<string | null> {
  if (!client.running) return Promise.resolve('SIGKILL');
  return new Promise((resolve) => client.onExit((exit) => resolve(exit.signal)));
}

function pins(): string[] {
  return fs.existsSync(BPFFS_PREFIX) ? fs.readdirSync(BPFFS_PREFIX).sort() : [];
}

describe('faults: the helper killed with SIGKILL at each step', function () {
  let object: string;
  let baseline: KernelObjects;
  let pinsBefore: string[];

  before(async function () {
    requireCapability(this, isRoot(), 'the faults tier loads BPF programs and needs root');
    assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
    object = await buildObject(samplePath('fork_trace'));
    baseline = kernelObjects();
    pinsBefore = pins();
  });

  afterEach(async () => {
    // Whatever a failed assertion left pinned is removed through a helper, as a user would.
    const client = await helper();
    try {
      for (const load of await client.request(Methods.listLoaded)) {
        if (!pinsBefore.includes(load.loadId)) await client.request(Methods.unload, { loadId: load.loadId });
      }
    } finally {
      await client.dispose();
    }
  });

  /** A new helper starts, finds what it should, loads and unloads fork_trace: eBPF Studio recovered. */
  async function recovers(): Promise<string[]> {
    const client = await helper();
    try {
      const found = (await client.request(Methods.listLoaded)).map((l) => l.loadId);
      const load = await client.request(Methods.load, { path: object });
      await client.request(Methods.unload, { loadId: load.loadId });
      return found;
    } finally {
      await client.dispose();
    }
  }

  for (const point of ['load:loaded', 'load:attached'] as const) {
    it(`at ${point}: nothing of the load stays in the kernel, and a new helper works`, async () => {
      const client = await helperDyingAt(point);
      const died = exited(client);
      await assert.rejects(client.request(Methods.load, { path: object }));
      assert.strictEqual(await died, 'SIGKILL');
      await expectKernelAsBefore(baseline, `a load cut off ${point} left nothing behind`);
      assert.deepStrictEqual(
        await recovers(),
        pinsBefore.filter((p) => !p.startsWith('pinning--')),
      );
      await expectKernelAsBefore(baseline);
      assert.deepStrictEqual(pins(), pinsBefore);
    });
  }

  it('at pin:partial: the half-pinned load leaves the kernel with its helper, and the next helper removes the staging pins', async () => {
    const client = await helperDyingAt('pin:partial');
    const died = exited(client);
    const load = await client.request(Methods.load, { path: object });
    await assert.rejects(client.request(Methods.pin, { loadId: load.loadId }));
    assert.strictEqual(await died, 'SIGKILL');
    // The programs pinned so far keep them in the kernel until a helper cleans the staging folder.
    const staging = pins().filter((p) => !pinsBefore.includes(p));
    assert.ok(
      staging.length === 1 && staging[0].startsWith(`pinning--${client.pid}--`),
      `one staging folder: ${staging}`,
    );
    const found = await recovers();
    assert.ok(!found.includes(load.loadId), 'the half-pinned load is not offered as a pinned load');
    assert.deepStrictEqual(pins(), pinsBefore);
    await expectKernelAsBefore(baseline);
  });

  it('at unload:unpinned: the pins are gone and so is the load, with no second unload needed', async () => {
    const client = await helperDyingAt('unload:unpinned');
    const died = exited(client);
    const load = await client.request(Methods.load, { path: object });
    await client.request(Methods.pin, { loadId: load.loadId });
    assert.ok(pins().includes(load.loadId));
    await assert.rejects(client.request(Methods.unload, { loadId: load.loadId }));
    assert.strictEqual(await died, 'SIGKILL');
    await expectKernelAsBefore(baseline);
    assert.deepStrictEqual(pins(), pinsBefore);
    assert.ok(!(await recovers()).includes(load.loadId));
  });

  it('at map:update: a pinned load survives with its map unchanged, found by the next helper', async () => {
    const client = await helperDyingAt('map:update');
    const died = exited(client);
    const load = await client.request(Methods.load, { path: object });
    await client.request(Methods.pin, { loadId: load.loadId });
    const map = load.maps.find((m) => m.name === 'forks_by_parent')!;
    const key = Buffer.alloc(4);
    key.writeUInt32LE(0x7fffffff); // no process has this pid: the program never writes it
    const value = Buffer.alloc(8, 1);
    await assert.rejects(
      client.request(Methods.mapUpdate, {
        mapId: map.id,
        key: key.toString('hex'),
        value: value.toString('hex'),
        flags: 'any',
      }),
    );
    assert.strictEqual(await died, 'SIGKILL');
    const next = await helper();
    try {
      const found = (await next.request(Methods.listLoaded)).find((l) => l.loadId === load.loadId);
      assert.ok(found, 'the pinned load is found again');
      assert.ok(found.maps.some((m) => m.id === map.id));
      const read = await next.request(Methods.mapLookup, { mapId: map.id, key: key.toString('hex') });
      assert.strictEqual(read.value, null, 'the edit the helper died before did not happen');
      await next.request(Methods.unload, { loadId: load.loadId });
    } finally {
      await next.dispose();
    }
    await expectKernelAsBefore(baseline);
    assert.deepStrictEqual(pins(), pinsBefore);
  });

  it('keeps nothing in /sys/fs/bpf/ebpf-studio that was not there before', () => {
    assert.deepStrictEqual(pins(), pinsBefore);
    assert.ok(path.isAbsolute(BPFFS_PREFIX));
  });
});

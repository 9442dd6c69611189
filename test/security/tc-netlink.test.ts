// tc on the netlink path (issue 9): before tcx links (6.6), a tc program is a filter on a clsact qdisc that
// other tools share. eBPF Studio must never delete the qdisc with their filters on it, removes only a qdisc it
// created and only when nothing else is left on it, and records its filters (which no file descriptor owns)
// under the pin prefix so that a helper started after a kill -9 lists them and Unload removes them. On this
// kernel (tcx) the helpers are started with EBPF_STUDIO_FORCE_TC_NETLINK=1 to take the netlink path. Each
// test works on a veth pair of its own; foreign filters are classic-BPF cls_bpf filters added with tc(8)
// (no eBPF program, so `bpftool prog list` is untouched by them).
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { BPFFS_PREFIX, LoadedSummary, Methods } from '../../extension/protocol/methods';
import {
  buildObject,
  eventually,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
  samplePath,
} from '../support/kernel';
import { unloadAll } from './support';

const recordDir = path.join(BPFFS_PREFIX, 'tc_netlink');
const FOREIGN = ['bpf', 'bytecode', '1,6 0 0 4294967295,', 'classid', '1:1'];

function run(...args: string[]): string {
  return execFileSync(args[0], args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** What tc(8) shows on the interface: its qdiscs and both directions' filters. */
function tcState(dev: string): { qdiscs: string; ingress: string; egress: string } {
  return {
    qdiscs: run('tc', 'qdisc', 'show', 'dev', dev),
    ingress: run('tc', 'filter', 'show', 'dev', dev, 'ingress'),
    egress: run('tc', 'filter', 'show', 'dev', dev, 'egress'),
  };
}

function hasClsact(dev: string): boolean {
  return /qdisc clsact/.test(run('tc', 'qdisc', 'show', 'dev', dev));
}

function records(): string[] {
  return fs.existsSync(recordDir) ? fs.readdirSync(recordDir) : [];
}

function startNetlink(): Promise<HelperClient> {
  return HelperClient.start({
    helperScript,
    elevation: '/usr/bin/env EBPF_STUDIO_FORCE_TC_NETLINK=1',
    clientName: 'security-tc-netlink',
  });
}

describe('tc filters on the netlink path', function () {
  const dev = `esn${process.pid % 100000}`;
  let object: string;
  let baseline: KernelObjects;
  let client: HelperClient | undefined;

  before(async function () {
    requireCapability(this, isRoot(), 'the helper runs as root');
    object = await buildObject(samplePath('tc_blocklist'));
    baseline = kernelObjects();
  });

  beforeEach(function () {
    try {
      run('ip', 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `${dev}p`);
    } catch (e) {
      requireCapability(this, false, `cannot create a veth pair: ${(e as Error).message.split('\n')[0]}`);
    }
    run('ip', 'link', 'set', dev, 'up');
  });

  afterEach(async () => {
    await unloadAll(client);
    await client?.dispose();
    client = undefined;
    run('ip', 'link', 'del', dev);
    await expectKernelAsBefore(baseline);
    assert.deepEqual(records(), [], 'no record is left under the pin prefix');
  });

  const load = (c: HelperClient, direction: 'ingress' | 'egress' = 'ingress'): Promise<LoadedSummary> =>
    c.request(Methods.load, { path: object, attach: { drop_blocked: { kind: 'tc', interface: dev, direction } } });

  it('attaches as a recorded netlink filter; unload removes it and the clsact qdisc it created', async () => {
    const before = tcState(dev);
    assert.ok(!hasClsact(dev), 'a fresh veth has no clsact qdisc');
    client = await startNetlink();
    const loaded = await load(client);
    const program = loaded.programs[0];
    assert.equal(program.attachment?.linkId, 0, 'a netlink filter is no bpf_link');
    assert.equal(program.attachment?.description, `${dev} (tc ingress) [netlink filter]`);
    assert.match(tcState(dev).ingress, new RegExp(`direct-action.* id ${program.id} `), 'the filter runs our program');
    assert.deepEqual(
      records().filter((r) => r.startsWith(loaded.loadId)).length,
      1,
      'the filter is recorded under the pin prefix',
    );
    await client.request(Methods.unload, { loadId: loaded.loadId });
    assert.deepEqual(tcState(dev), before, 'the filter and the qdisc eBPF Studio created are gone');
  });

  it('leaves a clsact qdisc that was there before, and the filters on it, as they were', async () => {
    run('tc', 'qdisc', 'add', 'dev', dev, 'clsact');
    run('tc', 'filter', 'add', 'dev', dev, 'ingress', 'pref', '7', ...FOREIGN);
    run('tc', 'filter', 'add', 'dev', dev, 'egress', 'pref', '7', ...FOREIGN);
    const before = tcState(dev);
    client = await startNetlink();
    const loaded = await load(client);
    assert.match(tcState(dev).ingress, /bytecode/, 'the other filter is still there beside ours');
    await client.request(Methods.unload, { loadId: loaded.loadId });
    assert.deepEqual(tcState(dev), before);
  });

  it('keeps the qdisc it created when another tool has added a filter to it since', async () => {
    client = await startNetlink();
    const loaded = await load(client);
    // Before this fix, unload called bpf_tc_hook_destroy here and took this filter with the qdisc.
    run('tc', 'filter', 'add', 'dev', dev, 'egress', 'pref', '7', ...FOREIGN);
    const foreign = tcState(dev).egress;
    await client.request(Methods.unload, { loadId: loaded.loadId });
    assert.ok(hasClsact(dev), 'the qdisc stays: another filter is on it');
    assert.equal(tcState(dev).egress, foreign, "the other tool's filter is untouched");
    assert.equal(tcState(dev).ingress, '', 'our filter is gone');
  });

  it('removes the qdisc it created with the last of its own filters', async () => {
    client = await startNetlink();
    const first = await load(client, 'ingress');
    const second = await load(client, 'egress');
    await client.request(Methods.unload, { loadId: first.loadId });
    assert.ok(hasClsact(dev), 'our egress filter still sits on the qdisc');
    assert.match(tcState(dev).egress, new RegExp(` id ${second.programs[0].id} `));
    await client.request(Methods.unload, { loadId: second.loadId });
    assert.ok(!hasClsact(dev), 'the last of our filters took the qdisc we created with it');
  });

  for (const foreignFilter of [false, true]) {
    it(`after kill -9, a new helper lists the netlink filter and Unload removes it${foreignFilter ? ' (another filter added since stays)' : ''}`, async () => {
      const before = tcState(dev);
      const dying = await startNetlink();
      const loaded = await load(dying);
      const progId = loaded.programs[0].id;
      if (foreignFilter) run('tc', 'filter', 'add', 'dev', dev, 'ingress', 'pref', '7', ...FOREIGN);
      const withForeign = tcState(dev);
      const exited = new Promise((resolve) => dying.onExit(resolve));
      process.kill(dying.pid, 'SIGKILL');
      await exited;
      await dying.dispose();
      // No descriptor owned the filter: it and its program are still in the kernel.
      assert.match(tcState(dev).ingress, new RegExp(` id ${progId} `));

      client = await HelperClient.start({ helperScript, elevation: 'none', clientName: 'security-tc-netlink' });
      const found = (await client.request(Methods.listLoaded)).find((l) => l.loadId === loaded.loadId);
      assert.ok(found, `the new helper lists ${loaded.loadId}`);
      assert.equal(found.pinned, false);
      assert.equal(found.programs[0].id, progId);
      assert.equal(found.programs[0].attachment?.description, `${dev} (tc ingress) [netlink filter]`);
      assert.deepEqual(found.maps.map((m) => m.name).sort(), loaded.maps.map((m) => m.name).sort());
      assert.ok(
        (await client.request(Methods.programs)).some((p) => p.id === progId),
        'its program is in the kernel until it is unloaded',
      );

      await client.request(Methods.unload, { loadId: loaded.loadId });
      const gone = await eventually(async () =>
        (await client!.request(Methods.programs)).some((p) => p.id === progId) ? undefined : true,
      );
      assert.ok(gone, 'unloading removed the filter, and with it the program');
      if (foreignFilter) {
        // Exactly the other tool's filter is left: what tc showed before the kill, without our priority's lines.
        const ours = new RegExp(`pref (\\d+) .* id ${progId} `).exec(withForeign.ingress)![1];
        const without = (text: string) =>
          text
            .split('\n')
            .filter((line) => !line.includes(` pref ${ours} `))
            .join('\n');
        assert.deepEqual(tcState(dev), { ...withForeign, ingress: without(withForeign.ingress) });
        assert.match(tcState(dev).ingress, /bytecode/, "the other tool's filter stays, and the qdisc with it");
      } else {
        assert.deepEqual(tcState(dev), before, 'the qdisc the dead helper created went with its last filter');
      }
    });
  }
});

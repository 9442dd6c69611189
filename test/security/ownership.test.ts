// Other software's objects are read-only (issue 9): a real helper next to foreign-agent, a plain libbpf
// loader that holds its maps and program as cilium-agent would. Writes, deletes and test runs on them are
// refused with NotOwned naming the holder, unless the request carries a grant for that one object; perf
// event arrays of other software are never streamed, a ring buffer another process holds is refused, and a
// map is streamed at most once. The kernel holds the same objects before and after.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { GrantPrompt, HelperClient } from '../../extension/host/client/client';
import { Methods } from '../../extension/protocol/methods';
import { expectKernelAsBefore, isRoot, kernelObjects, KernelObjects, requireCapability } from '../support/kernel';
import { expectRefusal, ForeignAgent, foreignAgentFiles, startHelper, u16le, u32le, u64le, unloadAll } from './support';

describe('ownership: other software’s objects are read-only', function () {
  let client: HelperClient;
  let agent: ForeignAgent;
  let baseline: KernelObjects;

  before(async function () {
    requireCapability(this, isRoot(), 'the helper runs as root; loading a foreign object needs root');
    await foreignAgentFiles();
    baseline = kernelObjects();
    agent = await ForeignAgent.start();
    client = await startHelper('security-ownership');
  });

  afterEach(async () => {
    client.setGrantPrompt(undefined);
    await unloadAll(client);
  });

  after(async function () {
    await client?.dispose();
    await agent?.close();
    if (baseline) await expectKernelAsBefore(baseline);
  });

  it('refuses map/update and map/delete on a map another process loaded, naming it and its pid', async () => {
    const mapId = agent.maps.blocked_ports;
    const update = await expectRefusal(client.request(Methods.mapUpdate, { mapId, key: u16le(80), value: u64le(1) }));
    assert.equal(update.data.kind, 'NotOwned');
    assert.ok(update.data.kind === 'NotOwned');
    assert.equal(update.data.id, mapId);
    assert.equal(update.data.name, 'blocked_ports');
    assert.equal(update.data.grantable, true);
    assert.deepEqual(update.data.holders, [{ pid: agent.pid, comm: 'foreign-agent' }]);
    assert.equal(
      update.message,
      `blocked_ports belongs to foreign-agent (pid ${agent.pid}); writing changes what it does.`,
    );
    const { value } = await client.request(Methods.mapLookup, { mapId, key: u16le(80) });
    assert.equal(value, null, 'the refused write left the map as it was');

    const del = await expectRefusal(client.request(Methods.mapDelete, { mapId, key: u16le(80) }));
    assert.equal(del.data.kind, 'NotOwned');
    assert.match(del.message, /^blocked_ports belongs to foreign-agent \(pid \d+\); deleting an entry/);
  });

  it('reads another tool’s map freely: lookup, dump and next key are not writes', async () => {
    const mapId = agent.maps.blocked_ports;
    assert.equal((await client.request(Methods.mapLookup, { mapId, key: u16le(22) })).value, null);
    assert.equal((await client.request(Methods.mapDump, { mapId, count: 16 })).count, 0);
    assert.equal((await client.request(Methods.mapNextKey, { mapId, key: null })).key, null);
  });

  it('writes and deletes with a grant for exactly that map, and not with a grant for another', async () => {
    const mapId = agent.maps.blocked_ports;
    const wrongGrant = await expectRefusal(
      client.request(Methods.mapUpdate, { mapId, key: u16le(80), value: u64le(1), grant: agent.maps.agent_events }),
    );
    assert.equal(wrongGrant.data.kind, 'NotOwned');
    await client.request(Methods.mapUpdate, { mapId, key: u16le(80), value: u64le(7), grant: mapId });
    assert.equal((await client.request(Methods.mapLookup, { mapId, key: u16le(80) })).value, u64le(7));
    const { deleted } = await client.request(Methods.mapDelete, { mapId, key: u16le(80), grant: mapId });
    assert.equal(deleted, true);
    assert.equal((await client.request(Methods.mapLookup, { mapId, key: u16le(80) })).value, null);
  });

  it('refuses prog/testRun on a program another process loaded unless granted', async () => {
    const progId = agent.programs.agent_xdp;
    const packet = Buffer.alloc(64).toString('hex');
    const refused = await expectRefusal(client.request(Methods.testRun, { progId, data: packet }));
    assert.ok(refused.data.kind === 'NotOwned');
    assert.equal(refused.data.object, 'program');
    assert.equal(refused.data.name, 'agent_xdp');
    assert.match(refused.message, /^agent_xdp belongs to foreign-agent \(pid \d+\); a test run executes it/);
    const run = await client.request(Methods.testRun, { progId, data: packet, grant: progId });
    assert.equal(run.retval, 2, 'XDP_PASS: port 80 is not in blocked_ports');
  });

  it('asks the host’s grant prompt with the helper’s words and retries with the grant only when allowed', async () => {
    const mapId = agent.maps.blocked_ports;
    const asked: Parameters<GrantPrompt>[0][] = [];
    client.setGrantPrompt(async (refusal) => (asked.push(refusal), false));
    const declined = await expectRefusal(
      client.request(Methods.mapUpdate, { mapId, key: u16le(443), value: u64le(1) }),
    );
    assert.equal(declined.data.kind, 'NotOwned');
    assert.equal((await client.request(Methods.mapLookup, { mapId, key: u16le(443) })).value, null);

    client.setGrantPrompt(async (refusal) => (asked.push(refusal), true));
    await client.request(Methods.mapUpdate, { mapId, key: u16le(443), value: u64le(3) });
    assert.equal((await client.request(Methods.mapLookup, { mapId, key: u16le(443) })).value, u64le(3));
    await client.request(Methods.mapDelete, { mapId, key: u16le(443) });

    assert.deepEqual(
      asked.map((a) => a.action),
      ['Write', 'Write', 'Delete'],
    );
    assert.match(asked[0].message, new RegExp(`^blocked_ports belongs to foreign-agent \\(pid ${agent.pid}\\)`));
  });

  it('never streams another tool’s perf event array or a ring buffer it holds, grant or not', async () => {
    const perf = await expectRefusal(
      client.request(Methods.subscribe, { source: 'perf', mapId: agent.maps.agent_perf }),
    );
    assert.ok(perf.data.kind === 'NotOwned');
    assert.equal(perf.data.grantable, false);
    assert.match(perf.message, /^agent_perf is a perf event array of foreign-agent \(pid \d+\): streaming it would/);
    const ring = await expectRefusal(
      client.request(Methods.subscribe, { source: 'ringbuf', mapId: agent.maps.agent_events }),
    );
    assert.ok(ring.data.kind === 'NotOwned');
    assert.equal(ring.data.grantable, false);
    assert.match(ring.message, /^agent_events is a ring buffer that foreign-agent \(pid \d+\) also holds/);
    // The prompt is not asked for what cannot be granted.
    let asked = 0;
    client.setGrantPrompt(async () => (asked++, true));
    await expectRefusal(client.request(Methods.subscribe, { source: 'perf', mapId: agent.maps.agent_perf }));
    assert.equal(asked, 0);
  });

  it('streams its own ring buffer and perf event array, each at most once at a time', async () => {
    const { object } = await foreignAgentFiles();
    const load = await client.request(Methods.load, { path: object, attach: { agent_xdp: { kind: 'none' } } });
    const ours = (name: string) => load.maps.find((m) => m.name === name)!.id;
    const ring = await client.request(Methods.subscribe, { source: 'ringbuf', mapId: ours('agent_events') });
    const again = await expectRefusal(
      client.request(Methods.subscribe, { source: 'ringbuf', mapId: ours('agent_events') }),
    );
    assert.equal(again.data.kind, 'BadInput');
    assert.match(again.message, /already streamed \(subscription \d+\)/);
    const perf = await client.request(Methods.subscribe, { source: 'perf', mapId: ours('agent_perf'), pages: 1 });
    await client.request(Methods.unsubscribe, { subscription: ring.subscription });
    const reopened = await client.request(Methods.subscribe, { source: 'ringbuf', mapId: ours('agent_events') });
    await client.request(Methods.unsubscribe, { subscription: reopened.subscription });
    await client.request(Methods.unsubscribe, { subscription: perf.subscription });
    // Its own maps are the user's: no grant needed.
    await client.request(Methods.mapUpdate, { mapId: ours('blocked_ports'), key: u16le(80), value: u64le(1) });
  });

  it('names no process when only a pin keeps a foreign map (bpftool map create)', async () => {
    const pin = path.join('/sys/fs/bpf', `ebpf-studio-sectest-${process.pid}`);
    execFileSync('bpftool', [
      'map',
      'create',
      pin,
      'type',
      'hash',
      'key',
      '4',
      'value',
      '4',
      'entries',
      '4',
      'name',
      'pinned_foreign',
    ]);
    try {
      const { id } = JSON.parse(execFileSync('bpftool', ['-j', 'map', 'show', 'pinned', pin], { encoding: 'utf8' }));
      const refused = await expectRefusal(
        client.request(Methods.mapUpdate, { mapId: id, key: u32le(1), value: u32le(1) }),
      );
      assert.ok(refused.data.kind === 'NotOwned');
      assert.deepEqual(refused.data.holders, []);
      assert.match(refused.message, /^pinned_foreign belongs to other software \(no process holds it open/);
    } finally {
      fs.rmSync(pin);
    }
  });
});

// Two VS Code windows are two root helpers on one machine and one pin folder (issue 9). Two real helpers,
// each with its own window session: their load ids differ, a pin collision leaves the other's pins alone,
// each sees the other's pinned loads as the other window's (unloading one asks first), and trace_pipe has
// one reader per machine. The kernel and the pin folder are as before after every test.
import { strict as assert } from 'assert';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { BPFFS_PREFIX, Methods } from '../../extension/protocol/methods';
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
import { expectRefusal, unloadAll } from './support';

function session(label: string) {
  return { id: crypto.randomBytes(3).toString('hex'), label };
}

function start(s: { id: string; label: string }): Promise<HelperClient> {
  return HelperClient.start({ helperScript, elevation: 'none', clientName: 'security-two-helpers', session: s });
}

function prefixEntries(): string[] {
  return fs.existsSync(BPFFS_PREFIX) ? fs.readdirSync(BPFFS_PREFIX).sort() : [];
}

describe('two helpers at once (two windows)', function () {
  let object: string;
  let baseline: KernelObjects;
  let pinsBefore: string[];
  const helpers: HelperClient[] = [];

  async function helper(s = session(`window ${helpers.length + 1}`)): Promise<HelperClient> {
    const client = await start(s);
    helpers.push(client);
    return client;
  }

  before(async function () {
    requireCapability(this, isRoot(), 'the helpers run as root');
    object = await buildObject(samplePath('fork_trace'));
    baseline = kernelObjects();
    pinsBefore = prefixEntries();
  });

  afterEach(async () => {
    // Each helper unloads its own; another window's pins are removed by a helper with the grant.
    for (const client of helpers) {
      if (!client.running) continue;
      for (const load of await client.request(Methods.listLoaded))
        await client.request(Methods.unload, { loadId: load.loadId, grant: load.loadId });
    }
    for (const client of helpers.splice(0)) await client.dispose();
    assert.deepEqual(prefixEntries(), pinsBefore, 'no pin of the test is left');
    await expectKernelAsBefore(baseline);
  });

  it('chooses load ids that differ between windows and carry the window’s session', async () => {
    const sa = session('window A');
    const sb = session('window B');
    const [a, b] = [await helper(sa), await helper(sb)];
    const loadA = await a.request(Methods.load, { path: object });
    const loadB = await b.request(Methods.load, { path: object });
    assert.equal(loadA.loadId, `fork_trace-${sa.id}-1`);
    assert.equal(loadB.loadId, `fork_trace-${sb.id}-1`);
    await a.request(Methods.pin, { loadId: loadA.loadId });
    await b.request(Methods.pin, { loadId: loadB.loadId });
    assert.ok(prefixEntries().includes(loadA.loadId) && prefixEntries().includes(loadB.loadId));
  });

  it('a pin collision is refused and never removes the pins already there', async () => {
    const a = await helper();
    const load = await a.request(Methods.load, { path: object });
    // Someone else's pin, at the very name this load's program would be pinned under.
    const dir = path.join(BPFFS_PREFIX, load.loadId);
    fs.mkdirSync(dir, { recursive: true });
    const squatter = path.join(dir, 'prog_trace_fork');
    execFileSync('bpftool', [
      'map',
      'create',
      squatter,
      'type',
      'array',
      'key',
      '4',
      'value',
      '4',
      'entries',
      '1',
      'name',
      'squatter',
    ]);
    try {
      const refused = await expectRefusal(a.request(Methods.pin, { loadId: load.loadId }));
      assert.equal(refused.data.kind, 'BadInput');
      assert.match(refused.message, /already exists \(another helper's pins\); nothing was changed/);
      assert.ok(fs.existsSync(squatter), 'the other pin is still there');
      assert.equal((await a.request(Methods.listLoaded)).find((l) => l.loadId === load.loadId)?.pinned, false);
    } finally {
      fs.rmSync(squatter);
      fs.rmdirSync(dir);
    }
  });

  it('shows the other window’s pinned load as theirs; writing its maps or unloading it asks first', async () => {
    const sa = session('window A');
    const a = await helper(sa);
    const b = await helper();
    const load = await a.request(Methods.load, { path: object });
    await a.request(Methods.pin, { loadId: load.loadId });

    const seen = (await b.request(Methods.listLoaded)).find((l) => l.loadId === load.loadId);
    assert.ok(seen, 'the other helper lists the pinned load');
    assert.deepEqual(seen.owner, { pid: a.pid, label: 'window A' });
    assert.deepEqual(
      seen.programs.map((p) => p.id),
      load.programs.map((p) => p.id),
    );

    const map = load.maps.find((m) => !m.internal)!;
    const write = await expectRefusal(
      b.request(Methods.mapUpdate, { mapId: map.id, key: '00000000', value: '0000000000000000' }),
    );
    assert.equal(write.data.kind, 'NotOwned');

    const unload = await expectRefusal(b.request(Methods.unload, { loadId: load.loadId }));
    assert.ok(unload.data.kind === 'NotOwned');
    assert.equal(unload.data.object, 'load');
    assert.equal(unload.data.loadId, load.loadId);
    assert.equal(
      unload.message,
      `${load.loadId} was loaded and pinned by eBPF Studio in another window (window A, helper pid ${a.pid}); ` +
        'unloading it takes it away from that window.',
    );
    assert.ok(fs.existsSync(path.join(BPFFS_PREFIX, load.loadId)), 'its pins are untouched');

    // The host's prompt agrees: the same request goes again with the grant, and the pins go.
    let asked = '';
    b.setGrantPrompt(async (r) => ((asked = r.action), true));
    await b.request(Methods.unload, { loadId: load.loadId });
    assert.equal(asked, 'Unload');
    assert.ok(!fs.existsSync(path.join(BPFFS_PREFIX, load.loadId)));
    assert.equal((await b.request(Methods.listLoaded)).length, 0);
  });

  it('adopts the pins of a window whose helper is gone: a restart of the same window, or a new one', async () => {
    const sa = session('window A');
    const first = await helper(sa);
    const load = await first.request(Methods.load, { path: object });
    await first.request(Methods.pin, { loadId: load.loadId });
    await first.dispose();
    const restarted = await helper(sa);
    const adopted = (await restarted.request(Methods.listLoaded)).find((l) => l.loadId === load.loadId);
    assert.ok(adopted && adopted.owner === undefined, 'the same window owns its pins again');
    await restarted.dispose();
    const other = await helper();
    const orphan = (await other.request(Methods.listLoaded)).find((l) => l.loadId === load.loadId);
    assert.ok(orphan && orphan.owner === undefined, 'a closed window’s pins are the next helper’s');
    await other.request(Methods.unload, { loadId: load.loadId });
  });

  it('reads trace_pipe in one window at a time, and says who reads it', async () => {
    const a = await helper(session('window A'));
    const b = await helper(session('window B'));
    const { subscription } = await a.request(Methods.subscribe, { source: 'trace_pipe' });
    const refused = await expectRefusal(b.request(Methods.subscribe, { source: 'trace_pipe' }));
    assert.ok(refused.data.kind === 'NotOwned');
    assert.equal(refused.data.object, 'trace_pipe');
    assert.deepEqual(refused.data.holders, [{ pid: a.pid, comm: 'window A' }]);
    assert.match(
      refused.message,
      new RegExp(`^trace_pipe is being read by eBPF Studio in window A \\(helper pid ${a.pid}\\)`),
    );
    // A second view in the same window shares the one reader.
    const second = await a.request(Methods.subscribe, { source: 'trace_pipe' });
    await a.request(Methods.unsubscribe, { subscription });
    await expectRefusal(b.request(Methods.subscribe, { source: 'trace_pipe' }));
    await a.request(Methods.unsubscribe, { subscription: second.subscription });
    const now = await b.request(Methods.subscribe, { source: 'trace_pipe' });
    await b.request(Methods.unsubscribe, { subscription: now.subscription });
  });

  it('takes over the trace_pipe lock of a helper killed with SIGKILL, and names another reader (cat)', async () => {
    const a = await helper(session('window A'));
    await a.request(Methods.subscribe, { source: 'trace_pipe' });
    const exited = new Promise((r) => a.onExit(r));
    process.kill(a.pid, 'SIGKILL');
    await exited;
    const b = await helper(session('window B'));
    const { subscription } = await b.request(Methods.subscribe, { source: 'trace_pipe' });
    await b.request(Methods.unsubscribe, { subscription });

    const tracefs = fs.existsSync('/sys/kernel/tracing/trace_pipe')
      ? '/sys/kernel/tracing'
      : '/sys/kernel/debug/tracing';
    const cat: ChildProcess = spawn('cat', [path.join(tracefs, 'trace_pipe')], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    try {
      await eventually(() => {
        try {
          return fs
            .readdirSync(`/proc/${cat.pid}/fd`)
            .some((fd) => fs.readlinkSync(`/proc/${cat.pid}/fd/${fd}`).endsWith('trace_pipe'))
            ? true
            : undefined;
        } catch {
          return undefined;
        }
      });
      const refused = await expectRefusal(b.request(Methods.subscribe, { source: 'trace_pipe' }));
      assert.ok(refused.data.kind === 'NotOwned');
      assert.deepEqual(refused.data.holders, [{ pid: cat.pid, comm: 'cat' }]);
    } finally {
      cat.kill('SIGKILL');
    }
    await unloadAll(b);
  });
});

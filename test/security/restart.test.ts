// Restart keeps what you loaded (issue 9). The steps ctx.restartHelper takes, on real helpers: the old
// helper hands its unpinned loads over (parked under the pin prefix), the new helper of the same window
// adopts them (attached all along, same ids, same summary) and releases them when it exits, as unpinned loads
// are. A helper killed with SIGKILL still takes unpinned loads with it: its exit names them, and the next
// helper (started without adopting) removes what had been handed over.
import { strict as assert } from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient, HelperExit } from '../../extension/host/client/client';
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
import { unloadAll } from './support';

const handoffDir = path.join(BPFFS_PREFIX, 'handoff');

function start(session: { id: string; label: string }, adopt = false): Promise<HelperClient> {
  return HelperClient.start({ helperScript, elevation: 'none', clientName: 'security-restart', session, adopt });
}

function linkedPrograms(): Promise<number[]> {
  return import('child_process').then(({ execFileSync }) =>
    (
      JSON.parse(execFileSync('bpftool', ['-j', 'link', 'list'], { encoding: 'utf8' }) || '[]') as { prog_id: number }[]
    ).map((l) => l.prog_id),
  );
}

describe('restart keeps what you loaded', function () {
  let object: string;
  let baseline: KernelObjects;
  let session: { id: string; label: string };
  const clients: HelperClient[] = [];

  before(async function () {
    requireCapability(this, isRoot(), 'the helpers run as root');
    object = await buildObject(samplePath('fork_trace'));
    baseline = kernelObjects();
  });

  beforeEach(() => {
    session = { id: crypto.randomBytes(3).toString('hex'), label: 'restart test window' };
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) {
      await unloadAll(client);
      await client.dispose();
    }
    assert.ok(!fs.existsSync(handoffDir) || fs.readdirSync(handoffDir).length === 0, 'nothing is left parked');
    await expectKernelAsBefore(baseline);
  });

  it('hands unpinned loads to the new helper: attached throughout, same ids and summary, released at its exit', async () => {
    const old = await start(session);
    const load = await old.request(Methods.load, { path: object, source: '/src/fork_trace.bpf.c' });
    const progId = load.programs[0].id;
    assert.ok(load.programs[0].attachment, 'fork_trace attaches to its tracepoint');
    await old.request(Methods.setStats, { enabled: true });
    assert.equal(old.statsEnabled, true);

    const { loadIds } = await old.request(Methods.handoff);
    assert.deepEqual(loadIds, [load.loadId]);
    await old.dispose();
    assert.ok((await linkedPrograms()).includes(progId), 'still attached between the two helpers');

    const next = await start(session, true);
    clients.push(next);
    assert.deepEqual(next.info.released, []);
    const [adopted] = await next.request(Methods.listLoaded);
    assert.equal(adopted.loadId, load.loadId);
    assert.equal(adopted.pinned, false, 'still an unpinned load to the user');
    assert.equal(adopted.source, '/src/fork_trace.bpf.c');
    assert.deepEqual(adopted.programs, load.programs);
    assert.ok(
      (await next.request(Methods.verifierLog, { loadId: load.loadId, program: 'trace_fork' })).log !== undefined,
    );
    // Its maps are the user's in the new helper too.
    const map = load.maps.find((m) => !m.internal)!;
    await next.request(Methods.mapDump, { mapId: map.id, count: 8 });

    // Exiting releases it, as an unpinned load: nothing of it stays in the kernel.
    clients.pop();
    await next.dispose();
    await expectKernelAsBefore(baseline, 'the handed-over load left with the helper that adopted it');
  });

  it('pinning a handed-over load makes it an ordinary pinned load', async () => {
    const old = await start(session);
    const load = await old.request(Methods.load, { path: object });
    await old.request(Methods.handoff);
    await old.dispose();
    const next = await start(session, true);
    clients.push(next);
    const pinned = await next.request(Methods.pin, { loadId: load.loadId });
    assert.equal(pinned.pinned, true);
    assert.ok(fs.existsSync(path.join(BPFFS_PREFIX, load.loadId)));
    await next.request(Methods.unload, { loadId: load.loadId });
    assert.ok(!fs.existsSync(path.join(BPFFS_PREFIX, load.loadId)));
  });

  it('a helper killed with SIGKILL names its unpinned loads; the next helper releases what was handed over', async () => {
    const old = await start(session);
    const first = await old.request(Methods.load, { path: object });
    await old.request(Methods.handoff);
    await old.dispose();
    const adopted = await start(session, true);
    await adopted.request(Methods.listLoaded);
    const second = await adopted.request(Methods.load, { path: object });
    const exit = await new Promise<HelperExit>((resolve) => {
      adopted.onExit(resolve);
      process.kill(adopted.pid, 'SIGKILL');
    });
    assert.equal(exit.expected, false);
    assert.deepEqual(exit.unpinned.sort(), [first.loadId, second.loadId].sort());
    // The crash took the load it held by fds; the handed-over one is parked until the next start.
    const next = await start(session);
    clients.push(next);
    assert.deepEqual(next.info.released, [first.loadId]);
    assert.deepEqual(await next.request(Methods.listLoaded), []);
  });
});

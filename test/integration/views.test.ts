// The Programs and Maps views read the kernel through the extension's live helper: a program that
// another helper (started by this test from the installed extension's dist/helper.js) loads shows up
// with its id, attach point and holder; its map's entries are decoded from BTF as this extension host
// forks; and both are gone from the views once unloaded.
import * as assert from 'assert';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { LoadResult, Methods } from '../../extension/protocol/methods';
import type { TestApi } from '../../extension/host/main';
import type { ViewNode } from '../../extension/host/ui/node';
import { buildObject, samplePath } from '../support/kernel';
import { expectKernelAsBefore, forkChildren, kernelBaseline, KernelBaseline, waitUntil } from '../e2e/support/system';
import { api, extension, waitForNodes } from './support';

describe('integration: views populated from the live helper', () => {
  let views: TestApi;
  let baseline: KernelBaseline;
  let loader: HelperClient | undefined;
  let loaded: LoadResult;

  before(async function () {
    this.timeout(120_000);
    views = await api();
    baseline = kernelBaseline();
    const object = await buildObject(samplePath('fork_trace'));
    // Root here, so "none" starts it directly, as the extension's own helper is started.
    loader = await HelperClient.start({
      helperScript: path.join(extension().extensionPath, 'dist', 'helper.js'),
      elevation: 'none',
      clientName: 'integration test',
    });
    loaded = await loader.request(Methods.load, { path: object });
  });

  after(async () => {
    await loader?.dispose();
  });

  it('lists fork_trace\'s program, loaded by another process, under "Other programs" with its id and holder', async () => {
    const program = loaded.programs.find((p) => p.name === 'trace_fork');
    assert.ok(program?.loaded, "the test's helper loaded trace_fork");
    assert.ok(program.attachment, 'and attached it (tracepoint sched/sched_process_fork)');
    const node = await waitForNodes(`trace_fork (id ${program.id}) in the Programs view`, views.programs, (nodes) =>
      nodes.find((n) => n.progId === program.id),
    );
    assert.strictEqual(
      node.id,
      `prog:${program.id}`,
      'listed among the other programs, not as a load of this extension',
    );
    assert.strictEqual(node.label, 'trace_fork');
    assert.match(node.description ?? '', new RegExp(`^tracepoint · id ${program.id}\\b`));
    // kernel/owners names the process holding the program: the test's helper.
    assert.match(
      node.tooltip ?? '',
      new RegExp(`Held by .*\\(pid ${loader!.pid}\\)`),
      `the tooltip names the holder: ${node.tooltip}`,
    );
    const own = (await views.programs.getChildren(undefined))?.find((n) => n.id === 'group:own');
    assert.ok(
      own?.children?.some((n) => n.id === 'own:empty'),
      'this extension itself loaded nothing',
    );
  });

  it("shows forks_by_parent in Maps, its entries decoded: this extension host's forks counted under its pid", async () => {
    const map = loaded.maps.find((m) => m.name === 'forks_by_parent');
    assert.ok(map, 'fork_trace has the map forks_by_parent');
    const node = await waitForNodes(`forks_by_parent (id ${map.id}) in the Maps view`, views.maps, (nodes) =>
      nodes.find((n) => n.mapId === map.id),
    );
    assert.strictEqual(node.label, 'forks_by_parent');
    assert.match(node.description ?? '', new RegExp(`hash .*· id ${map.id}`));
    assert.ok(node.lazy, 'its entries are read when it is expanded');
    // This process forks: the tracepoint counts under its pid (the main thread's id).
    forkChildren(4);
    const first = await waitUntil(`forks_by_parent[${process.pid}] among the map's decoded entries`, async () => {
      const entries = (await views.maps.getChildren(node)) ?? [];
      const entry = entries.find((e: ViewNode) => e.label === String(process.pid));
      return entry && /^\d+$/.test(entry.description ?? '') ? Number(entry.description) : undefined;
    });
    assert.ok(first >= 4, `at least the 4 forks are counted: ${first}`);
    forkChildren(3);
    const risen = await waitUntil(`forks_by_parent[${process.pid}] to rise from ${first} by 3`, async () => {
      const entries = (await views.maps.getChildren(node)) ?? [];
      const n = Number(entries.find((e: ViewNode) => e.label === String(process.pid))?.description);
      return n >= first + 3 ? n : undefined;
    });
    assert.ok(risen >= first + 3);
  });

  it('drops both from the views once the program is unloaded, leaving the kernel as before', async () => {
    const programId = loaded.programs.find((p) => p.name === 'trace_fork')!.id;
    const mapId = loaded.maps.find((m) => m.name === 'forks_by_parent')!.id;
    await loader!.request(Methods.unload, { loadId: loaded.loadId });
    await waitForNodes(`trace_fork (id ${programId}) gone from Programs`, views.programs, (nodes) =>
      nodes.some((n) => n.id === 'group:others') && !nodes.some((n) => n.progId === programId) ? true : undefined,
    );
    await waitForNodes(`forks_by_parent (id ${mapId}) gone from Maps`, views.maps, (nodes) =>
      nodes.some((n) => n.id === 'maps:others') && !nodes.some((n) => n.mapId === mapId) ? true : undefined,
    );
    await expectKernelAsBefore(baseline);
  });
});

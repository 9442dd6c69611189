// The Programs view names the loader process that holds a program: a small C loader (standing in for an
// aya or libbpf-rs loader, which cannot be built here) loads xdp_pass and holds its fd; the helper's
// kernel/owners names it, and the Programs view's node for the program (the same programsTree() the view
// renders, fed by the same four helper requests) says "Held by demo-loader (pid N)" in its tooltip.
// When the loader exits, its program leaves the kernel and the view.
import { strict as assert } from 'assert';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { programsTree } from '../../extension/host/features/programs/model';
import type { ViewNode } from '../../extension/host/ui/node';
import { Methods } from '../../extension/protocol/methods';
import {
  buildObject,
  eventually,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  KernelObjects,
  requireCapability,
  tempDir,
} from '../support/kernel';

const FIXTURES = path.join(__dirname, 'fixtures');

/** The Programs view's nodes, from what its refresh asks the helper. */
async function programsView(helper: HelperClient): Promise<ViewNode[]> {
  const [loaded, programs, links, owners] = await Promise.all([
    helper.request(Methods.listLoaded),
    helper.request(Methods.programs),
    helper.request(Methods.links),
    helper.request(Methods.owners),
  ]);
  const all: ViewNode[] = [];
  const walk = (nodes: ViewNode[]) => nodes.forEach((n) => (all.push(n), walk(n.children ?? [])));
  walk(programsTree({ loaded, programs, links, owners: owners.programs }));
  return all;
}

describe('the Programs view names the loader process holding a program', function () {
  let helper: HelperClient;
  let baseline: KernelObjects;
  let loader: ChildProcess | undefined;
  let binary: string;
  let object: string;

  before(async function () {
    requireCapability(this, isRoot(), 'loading programs needs root');
    assert.ok(fs.existsSync(helperScript), `${helperScript} is missing: run npm run build first`);
    const dir = tempDir('loader');
    // Named as a user's loader binary would be; comm is the first 15 bytes of it.
    binary = path.join(dir, 'demo-loader');
    execFileSync('cc', ['-Wall', '-O2', '-o', binary, path.join(FIXTURES, 'holder_loader.c'), '-lbpf']);
    object = await buildObject(path.join(FIXTURES, 'xdp_pass.bpf.c'), dir);
    baseline = kernelObjects();
    helper = await HelperClient.start({ helperScript, elevation: 'auto', clientName: 'loader-holder-test' });
  });

  after(async function () {
    loader?.kill('SIGKILL');
    await helper?.dispose();
    if (baseline) await expectKernelAsBefore(baseline);
    if (binary) fs.rmSync(path.dirname(binary), { recursive: true, force: true });
  });

  it('"Held by demo-loader (pid N)" on its program, under Other programs; gone when the loader exits', async () => {
    loader = spawn(binary, [object], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    loader.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const firstLine = await new Promise<string>((resolve, reject) => {
      let out = '';
      loader!.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]);
      });
      loader!.once('exit', (code) => reject(new Error(`the loader exited (${code}): ${stderr}`)));
    });
    const ids = firstLine.split(' ').slice(1).map(Number);
    assert.equal(ids.length, 1, firstLine);
    const [progId] = ids;

    const owners = await helper.request(Methods.owners);
    assert.deepEqual(owners.programs[progId], [{ pid: loader.pid, comm: 'demo-loader' }]);

    const node = (await programsView(helper)).find((n) => n.progId === progId);
    assert.ok(node, `program ${progId} is in the Programs view`);
    assert.equal(node.id, `prog:${progId}`, 'among the other programs: eBPF Studio did not load it');
    assert.equal(node.label, 'pass_all');
    assert.match(node.tooltip ?? '', new RegExp(`\\nHeld by demo-loader \\(pid ${loader.pid}\\)(\\n|$)`), node.tooltip);

    // The loader lets go (stdin closes): the program goes with its last fd.
    const exited = new Promise((resolve) => loader!.once('exit', resolve));
    loader.stdin!.end();
    await exited;
    loader = undefined;
    const gone = await eventually(
      async () => ((await programsView(helper)).some((n) => n.progId === progId) ? undefined : true),
      5000,
    );
    assert.ok(gone, `program ${progId} left the view with its loader`);
  });
});

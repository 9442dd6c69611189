// Faults around the helper and the build: clang killed half-way, the build output's disk full, bpffs
// unmounted under a running helper. Each gives a clear error where it happens, and the next try works.
import { strict as assert } from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { HelperClient } from '../../extension/host/client/client';
import { Methods } from '../../extension/protocol/methods';
import { compileBpf } from '../../extension/toolchain/compile';
import { checkSource } from '../../extension/toolchain/verify';
import {
  buildObject,
  expectKernelAsBefore,
  helperScript,
  isRoot,
  kernelObjects,
  requireCapability,
  samplePath,
  tempDir,
} from '../support/kernel';

/** The pids of clang processes compiling `source`, from /proc (no pgrep needed). */
function clangsCompiling(source: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return /clang/.test(path.basename(argv[0])) && argv.includes(source);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('faults: build and mounts', function () {
  before(function () {
    requireCapability(this, isRoot(), 'the faults tier mounts filesystems and loads BPF programs, and needs root');
  });

  it('clang killed with SIGKILL mid-build: the build fails saying so, leaves no object, and the next build works', async () => {
    const outDir = tempDir('killed-clang');
    const source = samplePath('execsnoop');
    const building = compileBpf(source, { outDir });
    let killed = 0;
    const deadline = Date.now() + 20_000;
    while (killed === 0 && Date.now() < deadline) {
      for (const pid of clangsCompiling(source)) {
        process.kill(pid, 'SIGKILL');
        killed++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const result = await building;
    assert.ok(killed > 0, 'a clang compiling the sample was seen and killed');
    assert.strictEqual(result.ok, false);
    assert.match(result.stderr, /clang was stopped by SIGKILL before it finished/);
    assert.ok(!fs.existsSync(result.objectPath), 'no half-written object is left to be loaded');
    const checked = await checkSource(undefined, source, { outDir });
    assert.ok(checked.built, `the next build works: ${checked.diagnostics.map((d) => d.message).join('; ')}`);
    fs.rmSync(outDir, { recursive: true, force: true });
  });

  it("the build output's disk full: clang's 'No space left on device' is the build's error, and nothing is loaded", async () => {
    const outDir = tempDir('full-disk');
    execFileSync('/bin/mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', outDir]);
    try {
      const checked = await checkSource(undefined, samplePath('execsnoop'), { outDir });
      assert.strictEqual(checked.built, false);
      const errors = checked.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
      assert.ok(
        errors.some((m) => /No space left on device/.test(m)),
        `an error names the full disk: ${errors.join('; ')}`,
      );
      assert.strictEqual(checked.objectPath, undefined);
    } finally {
      execFileSync('/bin/umount', [outDir]);
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });

  it('bpffs unmounted under a running helper: Pin mounts it again and pins; unload leaves the kernel as before', async () => {
    const object = await buildObject(samplePath('fork_trace'));
    const baseline = kernelObjects();
    // The helper runs in a mount namespace of its own, so unmounting its /sys/fs/bpf touches nobody
    // else's pins; what it pins there goes with the namespace.
    const client = await HelperClient.start({
      helperScript,
      elevation: '/usr/bin/unshare --mount --propagation private',
      clientName: 'faults',
    });
    try {
      const load = await client.request(Methods.load, { path: object });
      execFileSync('/usr/bin/nsenter', ['--target', String(client.pid), '--mount', '/bin/umount', '/sys/fs/bpf']);
      const mounts = () =>
        fs
          .readFileSync(`/proc/${client.pid}/mounts`, 'utf8')
          .split('\n')
          .filter((l) => / \/sys\/fs\/bpf bpf /.test(l));
      assert.strictEqual(mounts().length, 0, 'bpffs is gone from the helper namespace');
      const pinned = await client.request(Methods.pin, { loadId: load.loadId });
      assert.ok(pinned.pinned, 'pinned after mounting bpffs again');
      assert.strictEqual(mounts().length, 1, 'bpffs was mounted again in the helper namespace');
      await client.request(Methods.unload, { loadId: load.loadId });
    } finally {
      await client.dispose();
    }
    await expectKernelAsBefore(baseline);
  });
});
